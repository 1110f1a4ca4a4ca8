/**
 * The row schema of the Sentinel export: one row per finding in the custom table
 * `AzureExecAudit_CL`, sent to a Direct data collection rule's stream `Custom-AzureExecAudit_CL`.
 *
 * This module is the single source of truth shared by the exporter (which builds rows), the
 * ASIM parser test (which type-checks KQL against this table) and the infra templates (the
 * table and the DCR's streamDeclarations list these columns in this order, with these types).
 * docs/sentinel.md documents the same list; a test ties the two.
 *
 * Shapes follow /work/shared/reference/sentinel/custom-table-MyTable_CL.json (table columns:
 * name, type, description; types string, int, long, real, boolean, datetime, dynamic) and
 * dcr-direct-example.json (streamDeclarations `Custom-<name>` with name + type per column, and
 * a dataFlow whose outputStream is `Custom-<table>_CL`). Both from MicrosoftDocs/azure-monitor-docs
 * (provenance in the reference SOURCES-schemas.md).
 *
 * One departure from the column list in issue 12: the Entra tenant is `AADTenantId`, not
 * `TenantId`. Log Analytics reserves `TenantId` (it holds the workspace id in every table) and
 * refuses it as a custom column name ("Don't use names that conflict with system or reserved
 * columns, including … TenantId …": MicrosoftDocs/azure-monitor-docs @08c110a0,
 * articles/azure-monitor/logs/create-custom-table.md; log-standard-columns.md). `AADTenantId` is
 * the name Microsoft's own SigninLogs table gives the Entra tenant (MicrosoftDocs/
 * azure-reference-other @58cd3064, azure-monitor-ref/tables/signinlogs.md).
 */

export type KqlColumnType = "string" | "datetime" | "dynamic";

export interface SentinelColumn {
  readonly name: string;
  readonly type: KqlColumnType;
  readonly description: string;
}

/** The Log Analytics table (custom tables must end in `_CL`). */
export const SENTINEL_TABLE = "AzureExecAudit_CL";

/**
 * The DCR input stream. Rows are posted to it as they are (same column names and types), so the
 * DCR's dataFlow needs no transformKql beyond `source` and its outputStream is the table's.
 */
export const SENTINEL_STREAM = "Custom-AzureExecAudit_CL";

export const SENTINEL_COLUMNS: readonly SentinelColumn[] = Object.freeze([
  {
    name: "TimeGenerated",
    type: "datetime",
    description: "When the finding's evidence happened (the finding's time).",
  },
  {
    name: "FindingId",
    type: "string",
    description: "Stable finding id (fingerprint of rule, resource, principal, key evidence).",
  },
  {
    name: "ScanId",
    type: "string",
    description: "The scan that produced this row; FindingId + ScanId identify a row for deduplication.",
  },
  { name: "RuleId", type: "string", description: "Id of the detection rule." },
  { name: "RuleName", type: "string", description: "Title of the detection rule." },
  { name: "Severity", type: "string", description: "informational, low, medium, high or critical." },
  {
    name: "Status",
    type: "string",
    description: "new, open, resolved or suppressed (empty when the scan kept no state).",
  },
  {
    name: "AADTenantId",
    type: "string",
    description:
      "Entra tenant the scan signed in to (the token's tid), when known. TenantId is reserved: it is the workspace id.",
  },
  { name: "SubscriptionId", type: "string", description: "Subscription of the resource." },
  { name: "ResourceId", type: "string", description: "ARM resource id the finding is about." },
  { name: "ResourceType", type: "string", description: "ARM resource type (provider/type), derived from ResourceId." },
  { name: "Principal", type: "string", description: "The acting principal: name when known, else object id." },
  { name: "PrincipalType", type: "string", description: "User, ServicePrincipal, ManagedIdentity, ... when known." },
  {
    name: "CallerIpAddress",
    type: "string",
    description: "Caller IP of the Activity Log event, when the finding has one.",
  },
  {
    name: "OperationName",
    type: "string",
    description: "ARM operation name (e.g. Microsoft.Compute/virtualMachines/runCommand/action).",
  },
  { name: "CorrelationId", type: "string", description: "Activity Log correlation id, when the finding has one." },
  { name: "AttackTactics", type: "dynamic", description: 'ATT&CK tactics (array of strings, e.g. ["execution"]).' },
  {
    name: "AttackTechniques",
    type: "dynamic",
    description: 'ATT&CK technique ids (array of strings, e.g. ["T1651"]).',
  },
  {
    name: "Evidence",
    type: "dynamic",
    description: "The finding's evidence object, secrets redacted; oversized values truncated with a marker.",
  },
  { name: "ToolVersion", type: "string", description: "azure-exec-audit version that produced the row." },
] as const satisfies readonly SentinelColumn[]);

export type SentinelColumnName = (typeof SENTINEL_COLUMNS)[number]["name"];

/** One row as posted to the stream: every column present (empty string / empty array when unknown). */
export interface SentinelRow {
  TimeGenerated: string;
  FindingId: string;
  ScanId: string;
  RuleId: string;
  RuleName: string;
  Severity: string;
  Status: string;
  AADTenantId: string;
  SubscriptionId: string;
  ResourceId: string;
  ResourceType: string;
  Principal: string;
  PrincipalType: string;
  CallerIpAddress: string;
  OperationName: string;
  CorrelationId: string;
  AttackTactics: string[];
  AttackTechniques: string[];
  Evidence: unknown;
  ToolVersion: string;
}

/** `(TimeGenerated:datetime, FindingId:string, …)`: the form Kusto's TableSymbol.From takes. */
export function kqlTableSchema(): string {
  return `(${SENTINEL_COLUMNS.map((c) => `${c.name}:${c.type}`).join(", ")})`;
}
