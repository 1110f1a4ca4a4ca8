/**
 * A finding as one row of `AzureExecAudit_CL` (the columns in schema.ts). Pure: the same finding
 * and scan always give the same row, so a row sent again after a crash is the same row, and
 * FindingId + ScanId deduplicate it downstream.
 *
 * Everything is redacted here, before a row reaches the outbox or the network; attacker-written
 * text is capped. The service truncates a field over 64 KB and refuses a call over 1 MB, so the
 * Evidence object is shrunk (long strings and arrays cut, each cut marked) until its JSON fits
 * EVIDENCE_LIMIT_BYTES, and every other string column is capped at TEXT_LIMIT characters: a row
 * then stays far below the 1 MB a call may carry.
 */
import type { Evidence, Finding, ResolvedFinding, RuleSummary } from "../../model/finding.js";
import { redactDeep, redactText } from "../../util/redact.js";
import { cap } from "../../util/text.js";
import type { SentinelRow } from "./schema.js";

/** What the rows of one scan share. */
export interface RowScan {
  id: string;
  finishedAt: string;
  toolVersion: string;
  /** The Entra tenant, when known (the token's `tid`); empty otherwise. */
  tenantId?: string;
}

/** Under the service's 64 KB per field, with room for the marker. */
export const EVIDENCE_LIMIT_BYTES = 64_000;
/** Longest text in any other column (ids, names, operations come from attacker-controlled data). */
export const TEXT_LIMIT = 4096;
/** The marker a shrunk Evidence object carries at its top level. */
export const TRUNCATED_KEY = "_truncated";

const text = (s: string | undefined): string => (s === undefined ? "" : cap(redactText(s), TEXT_LIMIT));
const id = (s: string | undefined): string => (s === undefined ? "" : cap(s, TEXT_LIMIT));

/**
 * `Microsoft.Compute/virtualMachines/runCommands` from an ARM id: the provider namespace of the
 * last `/providers/` segment, then every type name after it. Ids above any provider are the
 * subscription or resource group itself.
 */
export function resourceTypeOf(resourceId: string): string {
  const parts = resourceId.split("/").filter((p) => p !== "");
  const at = parts.map((p) => p.toLowerCase()).lastIndexOf("providers");
  if (at >= 0 && at + 1 < parts.length) {
    const types = [parts[at + 1] as string];
    for (let i = at + 2; i < parts.length; i += 2) types.push(parts[i] as string);
    return types.join("/");
  }
  const lower = parts.map((p) => p.toLowerCase());
  if (lower[0] === "subscriptions" && lower[2] === "resourcegroups" && parts.length === 4)
    return "Microsoft.Resources/resourceGroups";
  if (lower[0] === "subscriptions" && parts.length === 2) return "Microsoft.Resources/subscriptions";
  return "";
}

/** The Activity Log facts a finding's evidence carries, whatever its kind. */
function activityFacts(e: Evidence): { ip?: string; correlationId?: string; operation?: string } {
  switch (e.kind) {
    case "activity":
    case "firstSeen":
      return { ip: e.callerIpAddress, correlationId: e.correlationId, operation: e.operationName };
    case "configuration":
    case "payload":
      return { ip: e.writtenBy?.callerIpAddress, correlationId: e.writtenBy?.correlationId };
    case "image":
      return { ip: e.importedBy?.callerIpAddress, correlationId: e.importedBy?.correlationId };
    default:
      return {};
  }
}

const utf8 = (s: string): number => Buffer.byteLength(s, "utf8");

/** Cuts strings longer than `maxText` and arrays longer than `maxItems`, marking each cut. */
function shrink(value: unknown, maxText: number, maxItems: number): unknown {
  if (typeof value === "string") return cap(value, maxText);
  if (Array.isArray(value)) {
    const kept = value.slice(0, maxItems).map((v) => shrink(v, maxText, maxItems));
    if (value.length > maxItems) kept.push(`…[+${value.length - maxItems} items]`);
    return kept;
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shrink(v, maxText, maxItems);
    return out;
  }
  return value;
}

/** Progressively tighter cuts; the last resort keeps the kind and an excerpt of the JSON text. */
const SHRINK_STEPS: readonly [number, number][] = [
  [16_384, 500],
  [4096, 200],
  [1024, 50],
  [256, 20],
  [64, 5],
];

/**
 * The evidence as the Evidence column holds it: redacted, and within EVIDENCE_LIMIT_BYTES of
 * JSON. A shrunk one says so at its top level: `_truncated: {originalBytes, limitBytes}`.
 */
export function evidenceColumn(evidence: unknown): unknown {
  const redacted = redactDeep(evidence);
  const full = JSON.stringify(redacted) ?? "null";
  const originalBytes = utf8(full);
  if (originalBytes <= EVIDENCE_LIMIT_BYTES) return redacted;
  const marker = { originalBytes, limitBytes: EVIDENCE_LIMIT_BYTES };
  for (const [maxText, maxItems] of SHRINK_STEPS) {
    const cut = shrink(redacted, maxText, maxItems);
    const candidate =
      cut !== null && typeof cut === "object" && !Array.isArray(cut)
        ? { ...(cut as Record<string, unknown>), [TRUNCATED_KEY]: marker }
        : { value: cut, [TRUNCATED_KEY]: marker };
    if (utf8(JSON.stringify(candidate)) <= EVIDENCE_LIMIT_BYTES) return candidate;
  }
  // Deep nesting or huge key counts: keep a plain excerpt (a quarter of the limit, in characters,
  // is within it even if every character takes four bytes).
  const kind = (redacted as { kind?: unknown } | null)?.kind;
  return {
    ...(typeof kind === "string" ? { kind } : {}),
    excerpt: cap(full, EVIDENCE_LIMIT_BYTES / 4 - 64),
    [TRUNCATED_KEY]: marker,
  };
}

/** The row for a finding the scan reported. */
export function findingRow(f: Finding, scan: RowScan): SentinelRow {
  const facts = activityFacts(f.evidence);
  const time = Number.isNaN(Date.parse(f.time)) ? scan.finishedAt : f.time;
  return {
    TimeGenerated: time,
    FindingId: id(f.id),
    ScanId: id(scan.id),
    RuleId: id(f.ruleId),
    RuleName: text(f.title),
    Severity: f.severity,
    Status: f.status ?? "",
    AADTenantId: id(scan.tenantId),
    SubscriptionId: id(f.subscriptionId),
    ResourceId: text(f.resourceId),
    ResourceType: text(resourceTypeOf(f.resourceId)),
    Principal: text(f.principal.name ?? f.principal.id ?? f.principal.appId),
    PrincipalType: text(f.principal.type),
    CallerIpAddress: text(facts.ip),
    OperationName: text(f.operation ?? facts.operation),
    CorrelationId: text(facts.correlationId),
    AttackTactics: f.attack.tactics.map(text),
    AttackTechniques: f.attack.techniques.map(text),
    Evidence: evidenceColumn(f.evidence),
    ToolVersion: id(scan.toolVersion),
  };
}

/**
 * The row for a finding this scan resolved (a scan with state): Status `resolved`, dated at the
 * end of the scan, ATT&CK from its rule, and as evidence when it was first and last seen.
 */
export function resolvedRow(r: ResolvedFinding, rule: RuleSummary | undefined, scan: RowScan): SentinelRow {
  return {
    TimeGenerated: scan.finishedAt,
    FindingId: id(r.id),
    ScanId: id(scan.id),
    RuleId: id(r.ruleId),
    RuleName: text(r.title),
    Severity: r.severity,
    Status: "resolved",
    AADTenantId: id(scan.tenantId),
    SubscriptionId: id(r.subscriptionId),
    ResourceId: text(r.resourceId),
    ResourceType: text(resourceTypeOf(r.resourceId)),
    Principal: text(r.principal.name ?? r.principal.id ?? r.principal.appId),
    PrincipalType: text(r.principal.type),
    CallerIpAddress: "",
    OperationName: "",
    CorrelationId: "",
    AttackTactics: (rule?.tactics ?? []).map(text),
    AttackTechniques: (rule?.techniques ?? []).map(text),
    Evidence: evidenceColumn({ kind: "resolved", firstSeen: r.firstSeen, lastSeen: r.lastSeen }),
    ToolVersion: id(scan.toolVersion),
  };
}

/** Every row a scan exports: its findings, then the findings it resolved. */
export function scanRows(
  result: { findings: readonly Finding[]; resolved?: readonly ResolvedFinding[]; rules: readonly RuleSummary[] },
  scan: RowScan,
): SentinelRow[] {
  const rules = new Map(result.rules.map((r) => [r.id, r]));
  return [
    ...result.findings.map((f) => findingRow(f, scan)),
    ...(result.resolved ?? []).map((r) => resolvedRow(r, rules.get(r.ruleId), scan)),
  ];
}

/** The key a row is known by in the outbox and downstream. */
export const rowKey = (row: Pick<SentinelRow, "FindingId" | "ScanId">): string => `${row.FindingId}\u001f${row.ScanId}`;
