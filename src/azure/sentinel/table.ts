/**
 * The findings table in Log Analytics (issue 12): `AzureExecAudit_CL`, written through a data
 * collection rule of kind Direct from the stream `Custom-AzureExecAudit_CL`. One list of columns,
 * which infra/sentinel/findings-table-dcr.json must declare for both the table and the stream
 * (test/infra/sentinel-templates.test.ts). The exporter's row builder keeps its own copy of this
 * schema (src/exporters/sentinel/schema.ts); the same test compares them once both exist.
 * Types are those a custom table accepts (MicrosoftDocs/azure-monitor-docs
 * articles/azure-monitor/logs/tutorial-logs-ingestion-api.md: string, int, long, real, boolean,
 * dateTime, dynamic).
 */
export const FINDINGS_TABLE = "AzureExecAudit_CL";
export const FINDINGS_STREAM = "Custom-AzureExecAudit_CL";

export const FINDINGS_COLUMNS: readonly {
  name: string;
  type: "datetime" | "string" | "dynamic";
  description: string;
}[] = [
  { name: "TimeGenerated", type: "datetime", description: "When the scan reported the finding" },
  {
    name: "FindingId",
    type: "string",
    description: "Stable finding id (fingerprint of rule, resource, principal and key evidence)",
  },
  {
    name: "ScanId",
    type: "string",
    description: "The scan that reported it; FindingId + ScanId deduplicate re-sent rows",
  },
  { name: "RuleId", type: "string", description: "Sigma rule id" },
  { name: "RuleName", type: "string", description: "Rule title" },
  { name: "Severity", type: "string", description: "informational, low, medium, high or critical" },
  { name: "Status", type: "string", description: "Finding status (new, open, resolved, suppressed)" },
  { name: "TenantId", type: "string", description: "Entra tenant of the scanned resources" },
  { name: "SubscriptionId", type: "string", description: "Subscription of the resource" },
  { name: "ResourceId", type: "string", description: "Azure resource id the finding is about" },
  { name: "ResourceType", type: "string", description: "Resource type" },
  { name: "Principal", type: "string", description: "Who acted (object id or name)" },
  { name: "PrincipalType", type: "string", description: "User, ServicePrincipal, ..." },
  { name: "CallerIpAddress", type: "string", description: "Caller IP address from the Activity Log" },
  { name: "OperationName", type: "string", description: "Azure operation that executed code" },
  { name: "CorrelationId", type: "string", description: "Activity Log correlation id" },
  { name: "AttackTactics", type: "dynamic", description: "MITRE ATT&CK tactics" },
  { name: "AttackTechniques", type: "dynamic", description: "MITRE ATT&CK technique ids" },
  { name: "Evidence", type: "dynamic", description: "Redacted, capped evidence" },
  { name: "ToolVersion", type: "string", description: "azure-exec-audit version" },
];
