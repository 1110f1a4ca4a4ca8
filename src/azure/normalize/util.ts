/** Small, total accessors for untrusted JSON. */

export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** A `{value, localizedValue}` pair (REST) or a plain string. */
export function pairValue(v: unknown): string | undefined {
  if (isObj(v)) return str(v.value);
  return str(v);
}

export function localizedOf(v: unknown): string | undefined {
  return isObj(v) ? str(v.localizedValue) : undefined;
}

export function strArray(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const x of v) {
    const s = str(x);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** JSON columns of the AzureActivity table may arrive as strings (export) or objects (API). */
export function jsonish(v: unknown): Json | undefined {
  if (isObj(v)) return v;
  if (typeof v === "string" && v.length > 1 && v.trimStart().startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(v);
      return isObj(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    const s = str(x);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

export interface ParsedResourceId {
  subscriptionId?: string;
  resourceGroup?: string;
  provider?: string;
  /** e.g. Microsoft.Compute/virtualMachines/runCommands */
  type?: string;
}

/** Splits an ARM resource id. Case is kept; ids compare case-insensitively elsewhere. */
export function parseResourceId(id: string | undefined): ParsedResourceId {
  if (!id) return {};
  const parts = id.split("/").filter((p) => p !== "");
  const out: ParsedResourceId = {};
  for (let i = 0; i < parts.length - 1; i++) {
    const key = (parts[i] as string).toLowerCase();
    if (key === "subscriptions" && out.subscriptionId === undefined) out.subscriptionId = parts[i + 1];
    else if (key === "resourcegroups" && out.resourceGroup === undefined) out.resourceGroup = parts[i + 1];
    else if (key === "providers") {
      const provider = parts[i + 1];
      if (provider === undefined) break;
      out.provider = provider;
      // Type segments alternate with names after the provider: prov/type/name/type/name
      const typeParts = [provider];
      for (let j = i + 2; j < parts.length; j += 2) typeParts.push(parts[j] as string);
      out.type = typeParts.join("/");
      // A nested "providers" (extension resources) restarts the walk.
      const nested = parts.indexOf("providers", i + 2);
      if (nested > 0) {
        i = nested - 1;
        continue;
      }
      break;
    }
  }
  return out;
}

/** Last path segment of a GUID-ending id, lower-cased. */
export function lastSegment(id: string): string {
  const i = id.lastIndexOf("/");
  return (i >= 0 ? id.slice(i + 1) : id).toLowerCase();
}

/** Drops undefined members so records and reports carry only what the input had. */
export function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** ISO-8601 in UTC as Azure writes it: kept as it is (the fast path; no Date is made). */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/**
 * ISO-8601 with an offset or none, `T` or a space between date and time (Log Analytics and CSV
 * exports), any fraction. A time without a zone is taken as UTC: every Azure log store keeps UTC.
 */
const ISO_ANY = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d{1,9})?\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?$/;

/**
 * A time as UTC ISO-8601 (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the fraction's digits kept), or
 * undefined when it is not an ISO-8601 time. Times are compared as these strings (window,
 * first-seen), so one written another way must never reach a comparison unconverted.
 */
export function utcTime(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (ISO_UTC.test(s)) return s;
  const m = ISO_ANY.exec(s.trim());
  if (!m) return undefined;
  const [, date, clock, fraction = "", zoneRaw] = m;
  let zone = zoneRaw === undefined || /^(z|utc)$/i.test(zoneRaw) ? "Z" : zoneRaw;
  if (zone !== "Z" && !zone.includes(":")) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const hms = (clock as string).length === 5 ? `${clock}:00` : (clock as string);
  const ms = Date.parse(`${date}T${hms}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  // Date keeps milliseconds only; the whole seconds come from it, the fraction as written.
  return `${new Date(ms).toISOString().slice(0, 19)}${fraction}Z`;
}

/** A member by name, any case: the exact name first (the common case costs one lookup). */
export function memberCI(o: Json, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}
