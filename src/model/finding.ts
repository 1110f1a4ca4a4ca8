import type { Diagnostic } from "./diagnostics.js";
import type { PayloadKind, Principal } from "./records.js";

export const SEVERITIES = ["informational", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** Kinds of source record a finding can point back to. */
export type EvidenceRecordKind =
  | "activity"
  | "roleAssignment"
  | "roleDefinition"
  | "functionApp"
  | "containerImage"
  | "resource";

/** A pointer from a finding back to the source record that caused it. */
export interface EvidenceRecord {
  kind: EvidenceRecordKind;
  /** eventDataId / correlationId / ARM id / image digest id. */
  id: string;
  /** File (or URL) it was read from, and line or element index. */
  location?: string;
  index?: number;
  /** 0-based index among the records on that line, when it holds more than one (a one-line document). */
  element?: number;
}

/** Who wrote a resource (or imported an image), from the Activity Log. */
export interface Authorship {
  operation: string;
  time: string;
  callerIpAddress?: string;
  correlationId?: string;
}

/** One recovered payload as a finding shows it. */
export interface PayloadExcerpt {
  kind: PayloadKind;
  path: string;
  content: string;
  /** True when `content` is not the whole payload (cut at recovery, or cut here for display). */
  truncated: boolean;
  vector: string;
  /** When cut for display: the payload's length, and where the part shown (around what the rule matched) starts. */
  length?: number;
  offset?: number;
  /**
   * In a payload over 160 characters: the part of `content` the rule's value matched (at most 160
   * characters), so a shorter view can show it. Absent when the rule matched another field.
   */
  found?: string;
}

export interface EvidenceBase {
  records: EvidenceRecord[];
  /** Matching records in all, when more than `records` lists. */
  recordCount?: number;
  /** The values of the fields the rule read. */
  matched?: Record<string, unknown>;
  /** Matched values shown cut (a window around what the rule found): their length and where the part shown starts. */
  matchedTruncated?: Record<string, { length: number; offset: number }>;
}

/**
 * Operations in the Activity Log by one principal on one resource that one rule matched. Each
 * operation instance (the Started/Accepted/Succeeded records of one call) is an occurrence.
 */
export interface ActivityEvidence extends EvidenceBase {
  kind: "activity";
  operationName: string;
  /** Operation instances merged into this finding. */
  occurrences: number;
  /** True when there were more occurrences than were counted (the count is a lower bound). */
  occurrencesAtLeast?: boolean;
  /** The first occurrence's correlation id. */
  correlationId?: string;
  callerIpAddress?: string;
  statuses?: string[];
  /** succeeded, failed, started, accepted, … */
  outcome: string;
  /** The status message of a failed attempt. */
  failure?: unknown;
  /** Distinct operations, when the finding spans several. */
  operations?: string[];
  lastTime?: string;
}

/** An Activity Log finding whose key (say principal + /24) was new after the learning period. */
export interface FirstSeenEvidence extends Omit<ActivityEvidence, "kind"> {
  kind: "firstSeen";
  baseline: { from: string; learningEnd: string };
  firstSeen: string;
  newValue?: Record<string, unknown>;
}

/** Fields a configuration-based finding has when the Activity Log could not date it. */
interface Dated {
  /** Present when the finding's time is the scan time: no event ties the configuration to a time. */
  timeSource?: string;
}

/** Image facts shared by image and image-payload findings. */
export interface ImageFacts {
  image: string;
  importedBy?: Authorship;
  importedFrom?: string;
  importLink?: string;
  imageTags?: string[];
}

/** A resource's configuration (ARM resource, Function App). */
export interface ConfigurationEvidence extends EvidenceBase, Dated {
  kind: "configuration";
  writtenBy?: Authorship;
}

export interface ImageEvidence extends EvidenceBase, Dated, ImageFacts {
  kind: "image";
}

/** A payload (script, command, URL, image reference) recovered from configuration. */
export interface PayloadEvidence extends EvidenceBase, Dated, Partial<ImageFacts> {
  kind: "payload";
  vector: string;
  payloads: PayloadExcerpt[];
  writtenBy?: Authorship;
}

export interface RoleAssignmentEvidence extends EvidenceBase, Dated {
  kind: "roleAssignment";
  assignment: {
    id: string;
    principalId: string;
    principalType?: string;
    roleDefinitionId: string;
    /** The assignment's ABAC condition, when it has one: it may narrow what the role allows. */
    condition?: string;
  };
}

export interface GrantEvidence extends EvidenceBase, Dated {
  kind: "grant";
  grant: {
    role: string;
    roleDefinitionId: string;
    operations: string[];
    assignedBy?: string;
    /**
     * The assignment's ABAC condition, when it has one. Grants are computed from actions and
     * notActions only; a condition may narrow them, so the finding shows it for a person to judge.
     */
    condition?: string;
  };
}

export interface ChainStep {
  rule: string;
  ruleId: string;
  time?: string;
  operation?: string;
  resourceId: string;
  principal?: string;
  statuses?: string[];
  records: string[];
  /** Findings raised on this step by single-record rules. */
  findings?: string[];
}

/** A correlation (Sigma correlation rule) over several matches. */
export interface ChainEvidence {
  kind: "chain";
  records: EvidenceRecord[];
  correlation: { type: string; timespanMs: number; group: Record<string, string> };
  steps: ChainStep[];
  /** Steps in all, when more than `steps` lists. */
  stepCount?: number;
}

export type Evidence =
  | ActivityEvidence
  | FirstSeenEvidence
  | ConfigurationEvidence
  | ImageEvidence
  | PayloadEvidence
  | RoleAssignmentEvidence
  | GrantEvidence
  | ChainEvidence;

export type EvidenceKind = Evidence["kind"];

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
  /**
   * With a state store: `new` (not present in the store before this scan), `open` (present in
   * an earlier scan and still here) or `suppressed` (set by suppressions, kept as it is).
   * Absent without state. Resolved findings are listed in `ScanResult.resolved` instead.
   */
  status?: "new" | "open" | "resolved" | "suppressed";
  /** With a state store: when the first scan that saw this finding started. */
  firstSeen?: string;
  /** Set with `status: "suppressed"`: the entry that suppressed the finding (src/suppress/). */
  suppression?: SuppressionRef;
  /**
   * Present only when the scan was compared with a baseline report (`--baseline`): true when
   * the finding's id is in it. Findings in the baseline never fail `--fail-on`.
   */
  baseline?: boolean;
  evidence: Evidence;
}

/** Which suppression entry suppressed a finding, and on what terms. */
export interface SuppressionRef {
  reason: string;
  /** As written in the entry: a date (YYYY-MM-DD) or an ISO date-time. */
  expires: string;
  /** Where the entry is: `<file>:<line>`. */
  entry: string;
}

/** A finding present at the last scan that could see it and now gone (docs/cli.md, "Findings lifecycle"). */
export interface ResolvedFinding {
  id: string;
  ruleId: string;
  title: string;
  severity: Severity;
  subscriptionId?: string;
  resourceId: string;
  principal: Principal;
  firstSeen: string;
  lastSeen: string;
}

/** Which collector read a coverage entry's data. */
export type SourceKind =
  /** Files and directories given with --input (or the demo snapshot). */
  | "files"
  /** Live Azure: the Activity Log REST API per subscription. */
  | "activity-log"
  /** A Log Analytics workspace (AzureActivity table). */
  | "workspace"
  /** A diagnostic-settings archive in Storage. */
  | "archive"
  /** Live Azure: RBAC, App Service, registries, resource configuration. */
  | "rbac"
  | "app-service"
  | "registry"
  | "resources";

export interface CoverageEntry {
  source: SourceKind;
  scope: string;
  from?: string;
  to?: string;
  /**
   * Incremental read (a scan with state): the watermark this scope resumed from, where its last
   * complete read ended; `from` is it minus the overlap for late events.
   */
  resumedFrom?: string;
  /**
   * `empty`: read without error, but no record at all came out of a source that always has some
   * (an Activity Log, an export): a broken export that writes empty files must not pass a gate.
   */
  status: "complete" | "partial" | "failed" | "empty";
  records: number;
  /** Records that could not be read (counted and located; the entry is then partial). */
  unreadable?: number;
  reason?: string;
  /** Activity Log events whose operation is only a display name that maps to none (the entry is then partial). */
  unresolved?: number;
  /** Records that are no Activity Log events (resource, sign-in, metric logs): set aside, not counted in `records`. */
  notActivity?: number;
}

export interface ScanStats {
  records: number;
  /** Activity Log events the pre-filter cleared: read for the window and baselines, not parsed. */
  observed: number;
  evaluations: number;
  rules: number;
}

/** An execution vector that leaves no record this tool can read (detections/vectors.yml: evidence none). */
export interface NotObservable {
  vector: number;
  name: string;
  technique: string;
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
  /** Things a reader should know that are not coverage gaps: skipped rules, rules short of history, bounds hit. */
  diagnostics: readonly Diagnostic[];
  /**
   * Vectors the scan could not have seen whatever it read (data-plane actions, Kubernetes audit,
   * Intune): listed so that no finding is not read as evidence of absence.
   */
  notObservable?: NotObservable[];
  stats?: ScanStats;
  /**
   * With a state store: findings the previous scans reported that this scan, complete and
   * covering their scope and window, no longer finds. Absent without state.
   */
  resolved?: ResolvedFinding[];
  /** With a state store: the id of the scan before this one, if any. */
  previousScanId?: string;
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
