/**
 * The `--archive` URL: a Storage container, optionally with a SAS token in its query string.
 * Everything printed about it uses `base` (the URL without its query), so a signature never
 * reaches a report, a scope name or a location.
 *
 * SAS query fields (`sig` signature, `sp` permissions, `se` expiry) as @azure/storage-blob's
 * SASQueryParameters reads them; `r` read and `l` list are the permissions listing and reading
 * blobs need (learn.microsoft.com/rest/api/storageservices/create-service-sas, "Permissions for a
 * container").
 */
import { isIP } from "node:net";
import { ContainerClient } from "@azure/storage-blob";
import { UsageError } from "../../util/errors.js";
import { redactText } from "../../util/redact.js";

export interface ArchiveUrl {
  /** The container URL without query string or trailing slash: what every output names. */
  base: string;
  /** The SAS token (the query string without `?`), when the URL carried one. */
  sas?: string;
  account: string;
  container: string;
  /** When the SAS says (`se`), its expiry. */
  sasExpiry?: Date;
}

const FLAG = "--archive";

/** The URL with its query cut off, for messages about a URL that could not be used. */
function shown(value: string): string {
  const q = value.indexOf("?");
  return redactText(q < 0 ? value : `${value.slice(0, q)}?…`);
}

/** Loopback hosts: the only ones plain http is allowed for (Azurite, a local emulator). */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1";
  return false;
}

export function parseArchiveUrl(value: string, now: Date = new Date()): ArchiveUrl {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(
      `${FLAG} must be a Storage container URL such as https://<account>.blob.core.windows.net/insights-activity-logs, got '${shown(value)}'`,
    );
  }
  if (u.username || u.password) {
    throw new UsageError(`${FLAG} must not carry a user name or password in the URL: use a SAS token or sign-in`);
  }
  if (u.protocol === "http:") {
    if (!isLoopback(u.hostname)) {
      throw new UsageError(
        `${FLAG} must be an https:// URL (plain http is allowed only for a loopback emulator), got '${shown(value)}'`,
      );
    }
  } else if (u.protocol !== "https:") {
    throw new UsageError(`${FLAG} must be an https:// URL, got '${shown(value)}'`);
  }
  if (u.hash) throw new UsageError(`${FLAG} must not have a #fragment: remove it`);
  const query = u.search.replace(/^\?/, "");
  u.search = "";
  const base = u.href.replace(/\/+$/, "");
  // The SDK's own parse (account in the host, or in the path for IP and localhost endpoints).
  let probe: ContainerClient | undefined;
  try {
    probe = new ContainerClient(base);
  } catch {
    // "Unable to extract containerName": the URL names the account only.
  }
  const container = probe?.containerName ?? "";
  const path = new URL(base).pathname.split("/").filter((s) => s !== "");
  const containerAt = path.indexOf(container);
  if (!probe || !container || containerAt < 0) {
    throw new UsageError(
      `${FLAG} must name the container, e.g. ${base}/insights-activity-logs (the URL names only the account)`,
    );
  }
  if (containerAt !== path.length - 1) {
    throw new UsageError(
      `${FLAG} must be the container's URL, not a path inside it: use ${new URL(base).origin}/${path.slice(0, containerAt + 1).join("/")} (and --subscription to narrow)`,
    );
  }
  if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container)) {
    throw new UsageError(
      `${FLAG} names '${container}', which is not a valid container name (3-63 lower-case letters, digits and single hyphens)`,
    );
  }
  const out: ArchiveUrl = { base, account: probe.accountName, container };
  if (query !== "") {
    const params = new URLSearchParams(query);
    if (!params.get("sig")) {
      throw new UsageError(
        `${FLAG} has a query string that is not a SAS token (no sig=): remove it to sign in, or paste the whole SAS URL`,
      );
    }
    const sp = params.get("sp");
    if (sp !== null && !(sp.includes("r") && sp.includes("l"))) {
      throw new UsageError(
        `${FLAG}: the SAS token allows '${sp}' but reading the archive needs read and list (sp=rl): make a SAS with both`,
      );
    }
    const se = params.get("se");
    if (se !== null) {
      const expiry = new Date(se);
      if (Number.isNaN(expiry.getTime())) {
        throw new UsageError(`${FLAG}: the SAS token's expiry (se=) is not a date: paste the SAS URL unchanged`);
      }
      if (expiry.getTime() <= now.getTime()) {
        throw new UsageError(`${FLAG}: the SAS token expired at ${expiry.toISOString()}: make a new one`);
      }
      out.sasExpiry = expiry;
    }
    out.sas = query;
  }
  return out;
}
