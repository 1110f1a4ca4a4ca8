import type { Principal } from "./records.js";

export const SEVERITIES = ["informational", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** A pointer from a finding back to the source record that caused it. */
export interface EvidenceRecord {
  /** activity | roleAssignment | functionApp | containerImage | resource | payload */
  kind: string;
  /** eventDataId / correlationId / ARM id / image digest id. */
  id: string;
  /** File (or URL) it was read from, and line or element index. */
  location?: string;
  index?: number;
}

export interface Finding {
  /** Stable fingerprint of rule, resource, principal and key evidence. */
  id: string;
  ruleId: string;
  title: string;
  severity: Severity;
  attack: { tactics: string[]; techniques: string[] };
  atrm?: string[];
  subscriptionId?: string;
  resourceId: string;
  principal: Principal;
  time: string;
  operation?: string;
  status?: "new" | "open" | "resolved" | "suppressed";
  evidence: {
    records: EvidenceRecord[];
    [key: string]: unknown;
  };
}

export interface CoverageEntry {
  source: string;
  scope: string;
  from?: string;
  to?: string;
  status: "complete" | "partial" | "failed";
  records: number;
  reason?: string;
}

export interface ScanResult {
  id: string;
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  coverage: CoverageEntry[];
  findings: Finding[];
  /** Rules loaded, for reports (SARIF rule metadata). */
  rules: RuleSummary[];
  /** Things a reader should know that are not coverage gaps: skipped rules, rules without enough history. */
  notes?: string[];
}

export interface RuleSummary {
  id: string;
  title: string;
  description?: string;
  level: Severity;
  techniques: string[];
  tactics: string[];
  atrm?: string[];
  vectors?: number[];
  file?: string;
  falsepositives?: string[];
  references?: string[];
}
