/**
 * A normalised Activity Log event as the AzureActivity row Log Analytics would hold for it:
 * normalize/activity.ts `fromTable` read backwards, column names and types from the table
 * reference (test/fixtures/reference/kql/AzureActivity.columns.md). Strings Kusto never stores as
 * null are "" when absent; dynamic columns are null. The differential test also reads every row
 * back through `fromTable` and requires the matcher's verdict to stay the same, so the conversion
 * itself is checked.
 */
import type { ActivityEvent } from "../../src/model/records.js";
import { referenceColumns } from "./kusto.js";

const COLUMNS = referenceColumns();

export function toRow(e: ActivityEvent): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(COLUMNS)) row[name] = type === "dynamic" ? null : "";
  const json = (v: unknown) => (v === undefined ? "" : JSON.stringify(v));
  Object.assign(row, {
    TimeGenerated: Date.parse(e.time),
    OperationNameValue: e.operationName,
    OperationName: e.operationLocalized ?? e.operationName,
    ActivityStatusValue: e.status ?? "",
    ActivitySubstatusValue: e.subStatus ?? "",
    CategoryValue: e.category ?? "",
    Level: e.level ?? "",
    _ResourceId: e.resourceId ?? "",
    ResourceId: e.resourceId ?? "",
    SubscriptionId: e.subscriptionId ?? "",
    ResourceGroup: e.resourceGroup ?? "",
    ResourceProviderValue: e.resourceProvider ?? "",
    Caller: e.caller ?? "",
    CallerIpAddress: e.callerIpAddress ?? "",
    CorrelationId: e.correlationId ?? "",
    EventDataId: e.eventDataId ?? "",
    OperationId: e.operationId ?? "",
    Claims_d: Object.keys(e.claims).length > 0 ? { ...e.claims } : null,
    Claims: Object.keys(e.claims).length > 0 ? json(e.claims) : "",
    Authorization_d: e.authorization ?? null,
    Authorization: json(e.authorization),
    Properties_d: { ...e.properties },
    Properties: json(e.properties),
    HTTPRequest: json(e.httpRequest),
    Type: "AzureActivity",
    SourceSystem: "Azure",
  });
  return row;
}

/** The row as `fromTable` reads it (TimeGenerated back to ISO text). */
export function rowAsTable(row: Record<string, unknown>): Record<string, unknown> {
  return { ...row, TimeGenerated: new Date(row.TimeGenerated as number).toISOString() };
}
