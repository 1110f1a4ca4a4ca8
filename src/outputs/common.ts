/**
 * Shared pieces of the output formats: the tool identity, the "safe" (redacted and capped)
 * views of findings and coverage that every format prints, and ordering helpers.
 */

import type { CoverageEntry, Finding, ResolvedFinding, Severity } from "../model/finding.js";
import { severityRank } from "../model/finding.js";
import type { Principal } from "../model/records.js";
import { redactDeep, redactText } from "../util/redact.js";
import { cap } from "../util/text.js";

export const TOOL_NAME = "azure-exec-audit";
export const TOOL_INFORMATION_URI = "https://github.com/azure-exec-audit/azure-exec-audit";

/** Largest string kept in a report, per string (evidence values, titles, reasons). */
export const MAX_REPORT_STRING = 8 * 1024;

/** Cap every string in a JSON-like value; non-JSON leaves (bigint, functions) are made JSON-safe. */
export function capDeep(value: unknown, max: number = MAX_REPORT_STRING): unknown {
  if (typeof value === "string") return cap(value, max);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => capDeep(v, max));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = capDeep(v, max);
  return out;
}

/** Redacted, capped copy of a free-text string for a report. */
export function safeText(s: string, max: number = MAX_REPORT_STRING): string {
  return cap(redactText(s), max);
}

/** Redact first (so a secret is never cut into an unrecognisable half), then cap. */
export function safeValue<T>(value: T, max: number = MAX_REPORT_STRING): T {
  return capDeep(redactDeep(value), max) as T;
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The finding as reports print it: contract field order, redacted, strings capped. */
export function safeFinding(f: Finding): Finding {
  const ordered = withoutUndefined({
    id: f.id,
    ruleId: f.ruleId,
    title: f.title,
    severity: f.severity,
    attack: { tactics: [...f.attack.tactics], techniques: [...f.attack.techniques] },
    atrm: f.atrm ? [...f.atrm] : undefined,
    subscriptionId: f.subscriptionId,
    resourceId: f.resourceId,
    principal: withoutUndefined({
      id: f.principal.id,
      name: f.principal.name,
      type: f.principal.type,
      appId: f.principal.appId,
    }),
    time: f.time,
    operation: f.operation,
    status: f.status,
    firstSeen: f.firstSeen,
    suppression: f.suppression
      ? { reason: f.suppression.reason, expires: f.suppression.expires, entry: f.suppression.entry }
      : undefined,
    baseline: f.baseline,
    evidence: f.evidence,
  });
  return safeValue(ordered);
}

/** A resolved finding as reports print it (redacted, capped). */
export function safeResolved(r: ResolvedFinding): ResolvedFinding {
  return safeValue(
    withoutUndefined({
      id: r.id,
      ruleId: r.ruleId,
      title: r.title,
      severity: r.severity,
      subscriptionId: r.subscriptionId,
      resourceId: r.resourceId,
      principal: withoutUndefined({ ...r.principal }),
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
    }),
  );
}

/** The coverage entry as reports print it (sources may be URLs with SAS tokens; reasons may quote them). */
export function safeCoverage(c: CoverageEntry): CoverageEntry {
  return safeValue(
    withoutUndefined({
      source: c.source,
      scope: c.scope,
      from: c.from,
      to: c.to,
      resumedFrom: c.resumedFrom,
      status: c.status,
      records: c.records,
      reason: c.reason,
      unreadable: c.unreadable,
      unresolved: c.unresolved,
      notActivity: c.notActivity,
    }),
  );
}

/** Severity descending, then time ascending, then id (a total, stable order). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    (a.time < b.time ? -1 : a.time > b.time ? 1 : 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { informational: 0, low: 0, medium: 0, high: 0, critical: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

/** The most readable name for a principal: name, then object id, then app id. */
export function principalLabel(p: Principal): string {
  return p.name ?? p.id ?? (p.appId ? `app ${p.appId}` : "unknown principal");
}

/** Last two segments of an ARM id (`virtualMachines/vm1`); the whole value when shorter. */
export function shortResource(resourceId: string): string {
  const parts = resourceId.split("/").filter((p) => p.length > 0);
  return parts.length <= 2 ? parts.join("/") || resourceId : parts.slice(-2).join("/");
}
