/**
 * Figures the reports written for people share (Markdown, HTML, the ATT&CK Navigator layer):
 * which findings are new, counts by technique and subscription, ATT&CK names. Suppressed
 * findings are accepted ones: they are listed, but no count or score here includes them.
 */

import type { Finding, ScanResult, Severity } from "../model/finding.js";
import { SEVERITIES, severityRank } from "../model/finding.js";
import { attackTechniques } from "../rules/lint.js";
import { compareFindings, countBySeverity } from "./common.js";

/** ATT&CK version of data/attack-techniques.json (docs/ARCHITECTURE.md). */
export const ATTACK_VERSION = "18";

/** Severities from the highest down, the order every summary lists them in. */
export const SEVERITIES_DESC: readonly Severity[] = [...SEVERITIES].reverse();

export interface TechniqueInfo {
  id: string;
  /** The ATT&CK name; undefined when the id is not in the shipped data (a user rule's tag). */
  name?: string;
  tactics: string[];
  platforms: string[];
  /** In the shipped ATT&CK data and neither revoked nor deprecated. */
  current: boolean;
}

export function techniqueInfo(id: string): TechniqueInfo {
  const t = attackTechniques().get(id);
  if (!t) return { id, tactics: [], platforms: [], current: false };
  return {
    id,
    name: t.name,
    tactics: [...t.tactics],
    platforms: [...t.platforms],
    current: !t.revoked && !t.deprecated,
  };
}

/** Techniques of the Execution tactic on the cloud platforms this tool reads: the rows of the HTML heat map. */
export const CLOUD_PLATFORMS = ["IaaS", "Containers", "Identity Provider"] as const;

export function executionTechniques(): TechniqueInfo[] {
  return [...attackTechniques().values()]
    .filter(
      (t) =>
        !t.revoked &&
        !t.deprecated &&
        t.tactics.includes("execution") &&
        t.platforms.some((p) => (CLOUD_PLATFORMS as readonly string[]).includes(p)),
    )
    .map((t) => techniqueInfo(t.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const SUBSCRIPTION_IN_ID = /^\/subscriptions\/([^/]+)/i;

/** The subscription a finding is in: its own field, else the one its resource id names. */
export function subscriptionOf(f: Pick<Finding, "subscriptionId" | "resourceId">): string | undefined {
  return f.subscriptionId ?? SUBSCRIPTION_IN_ID.exec(f.resourceId)?.[1]?.toLowerCase();
}

/** New in this scan: new to the state store, or not in the `--baseline` report. */
export function isNew(f: Finding): boolean {
  if (f.status === "suppressed") return false;
  return f.baseline === false || (f.baseline === undefined && f.status === "new");
}

/** The word a report shows for a finding's lifecycle, or "" when there is none. */
export function statusLabel(f: Finding): string {
  if (f.status === "suppressed") return "suppressed";
  if (f.baseline === true) return "in baseline";
  if (isNew(f)) return "new";
  return f.status ?? "";
}

/** New findings first, then the others, then suppressed ones; each group by severity, time, id. */
export function newFirst(findings: readonly Finding[]): Finding[] {
  const group = (f: Finding): number => (f.status === "suppressed" ? 2 : isNew(f) ? 0 : 1);
  return [...findings].sort((a, b) => group(a) - group(b) || compareFindings(a, b));
}

export function highest(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

export interface Cell {
  count: number;
  highest: Severity;
}

export interface TechniqueRow extends TechniqueInfo {
  findings: number;
  bySeverity: Record<Severity, number>;
  highest: Severity;
  /** By subscription id ("" for a finding with none). */
  subscriptions: Map<string, Cell>;
}

/** Per technique: counts, severities and subscriptions of the unsuppressed findings that carry it. */
export function techniqueRows(findings: readonly Finding[]): TechniqueRow[] {
  const rows = new Map<string, TechniqueRow>();
  for (const f of findings) {
    if (f.status === "suppressed") continue;
    const sub = subscriptionOf(f) ?? "";
    for (const id of new Set(f.attack.techniques)) {
      let row = rows.get(id);
      if (!row) {
        row = {
          ...techniqueInfo(id),
          findings: 0,
          bySeverity: countBySeverity([]),
          highest: f.severity,
          subscriptions: new Map(),
        };
        rows.set(id, row);
      }
      row.findings += 1;
      row.bySeverity[f.severity] += 1;
      row.highest = highest(row.highest, f.severity);
      const cell = row.subscriptions.get(sub);
      if (cell) {
        cell.count += 1;
        cell.highest = highest(cell.highest, f.severity);
      } else row.subscriptions.set(sub, { count: 1, highest: f.severity });
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      severityRank(b.highest) - severityRank(a.highest) ||
      b.findings - a.findings ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Subscriptions the scan covered or found something in, sorted; "" stands for findings with none. */
export function subscriptions(result: ScanResult): string[] {
  const subs = new Set<string>();
  for (const f of result.findings) subs.add(subscriptionOf(f) ?? "");
  for (const c of result.coverage) {
    const m = SUBSCRIPTION_IN_ID.exec(c.scope);
    if (m?.[1]) subs.add(m[1].toLowerCase());
  }
  return [...subs].sort((a, b) => (a === "" ? 1 : b === "" ? -1 : a < b ? -1 : a > b ? 1 : 0));
}

/** "2 critical, 1 high" (highest first, zero counts left out); "none" when empty. */
export function severityCounts(counts: Record<Severity, number>): string {
  const parts = SEVERITIES_DESC.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

/** "45 min", "1 h 17 min", "2 d 3 h": a duration as a reader says it. */
export function formatDuration(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60000));
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 === 0 ? `${hours} h` : `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** First and last step time of a chain, as the steps list them (ISO strings sort as times). */
export function chainSpan(steps: readonly { time?: string }[]): { first?: string; last?: string } {
  const times = steps
    .map((s) => s.time)
    .filter((t): t is string => typeof t === "string")
    .sort();
  return { first: times[0], last: times.at(-1) };
}

/** "7 steps over 1 h 17 min (the rule's window: 24 h)". */
export function chainSummary(e: {
  steps: readonly { time?: string }[];
  stepCount?: number;
  correlation: { timespanMs: number };
}): string {
  const n = e.stepCount ?? e.steps.length;
  const { first, last } = chainSpan(e.steps);
  const over = first && last ? ` over ${formatDuration(Date.parse(last) - Date.parse(first))}` : "";
  return `${n} steps${over} (the rule's window: ${formatDuration(e.correlation.timespanMs)})`;
}
