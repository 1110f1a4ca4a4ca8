/**
 * Suppressions applied to a finished scan: a pure function of the result, the entries and the
 * clock, run by the CLI after the engine. A matching, unexpired entry marks the finding
 * `status: "suppressed"` with the entry that did it; the finding stays in the report, so a reader
 * (and the state store, which keeps the status as given) sees what was accepted and why.
 * Expired entries stop applying and are reported; entries that matched nothing are reported too,
 * so stale exceptions get noticed.
 */

import { encodeGlob, globMatch } from "../matcher/glob.js";
import { compareDiagnostics, DIAGNOSTIC_CODES, type Diagnostic } from "../model/diagnostics.js";
import type { Finding, ScanResult } from "../model/finding.js";
import type { SuppressionEntry } from "./load.js";
import { expiryTime } from "./schema.js";

/** An entry with its globs encoded once (lower case: ARM ids and rule ids compare in any case). */
interface CompiledEntry {
  source: SuppressionEntry;
  expiresAt: number;
  rule?: string;
  title?: string;
  subscription?: string;
  resource?: string;
  principal?: string;
}

const lowerGlob = (s: string | undefined): string | undefined =>
  s === undefined ? undefined : encodeGlob(s.toLowerCase());

function compile(e: SuppressionEntry): CompiledEntry {
  return {
    source: e,
    // Validated when loaded; an entry built in code with a bad date never applies.
    expiresAt: expiryTime(e.expires) ?? Number.NEGATIVE_INFINITY,
    rule: lowerGlob(e.rule),
    title: lowerGlob(e.title),
    subscription: e.subscription?.toLowerCase(),
    resource: lowerGlob(e.resource),
    principal: lowerGlob(e.principal),
  };
}

const SUBSCRIPTION_PREFIX = "/subscriptions/";

/** The finding's subscription: its own field, or the first segment after /subscriptions/ in its resource id. */
function subscriptionOf(f: Finding): string | undefined {
  if (f.subscriptionId) return f.subscriptionId.toLowerCase();
  const id = f.resourceId.toLowerCase();
  if (!id.startsWith(SUBSCRIPTION_PREFIX)) return undefined;
  const end = id.indexOf("/", SUBSCRIPTION_PREFIX.length);
  return id.slice(SUBSCRIPTION_PREFIX.length, end < 0 ? undefined : end);
}

function matches(e: CompiledEntry, f: Finding): boolean {
  if (e.rule !== undefined && !globMatch(e.rule, f.ruleId.toLowerCase())) return false;
  if (e.title !== undefined && !globMatch(e.title, f.title.toLowerCase())) return false;
  if (e.subscription !== undefined && subscriptionOf(f) !== e.subscription) return false;
  if (e.resource !== undefined && !globMatch(e.resource, f.resourceId.toLowerCase())) return false;
  if (e.principal !== undefined) {
    const p = e.principal;
    const names = [f.principal.id, f.principal.name, f.principal.appId].filter((x): x is string => !!x);
    if (!names.some((n) => globMatch(p, n.toLowerCase()))) return false;
  }
  return true;
}

function describe(e: SuppressionEntry): string {
  const what = e.rule !== undefined ? `rule '${e.rule}'` : `title '${e.title}'`;
  return `suppression ${e.entry} (${what})`;
}

/**
 * Marks findings matched by an unexpired entry as suppressed (the first matching entry, in file
 * order, is the one named) and adds `suppression/expired` and `suppression/unused` diagnostics.
 * A finding already suppressed (by an earlier step) is left as it is. `now` decides expiry.
 */
export function applySuppressions(result: ScanResult, entries: readonly SuppressionEntry[], now: Date): ScanResult {
  if (entries.length === 0) return result;
  const t = now.getTime();
  const compiled = entries.map(compile);
  const active = compiled.filter((e) => e.expiresAt > t);
  const expired = compiled.filter((e) => e.expiresAt <= t);
  const used = new Set<CompiledEntry>();
  const findings = result.findings.map((f) => {
    if (f.status === "suppressed") return f;
    const hit = active.find((e) => matches(e, f));
    if (!hit) return f;
    used.add(hit);
    const { reason, expires, entry } = hit.source;
    return { ...f, status: "suppressed" as const, suppression: { reason, expires, entry } };
  });
  const added: Diagnostic[] = [];
  for (const e of expired) {
    const would = result.findings.filter((f) => matches(e, f)).length;
    added.push({
      code: DIAGNOSTIC_CODES.suppressionExpired,
      message: `${describe(e.source)} expired on ${e.source.expires} and no longer applies${would > 0 ? `: ${would} finding${would === 1 ? "" : "s"} it matches ${would === 1 ? "is" : "are"} reported` : ""}; renew it with a new expires date or remove it`,
      ...(e.source.location ? { location: e.source.location } : {}),
    });
  }
  for (const e of active) {
    if (used.has(e)) continue;
    added.push({
      code: DIAGNOSTIC_CODES.suppressionUnused,
      message: `${describe(e.source)} matched no finding in this scan`,
      ...(e.source.location ? { location: e.source.location } : {}),
    });
  }
  return {
    ...result,
    findings,
    diagnostics: added.length > 0 ? [...result.diagnostics, ...added].sort(compareDiagnostics) : result.diagnostics,
  };
}
