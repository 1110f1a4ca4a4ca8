/**
 * The KQL the workspace collector sends: three query forms over the AzureActivity table, each for
 * one time slice, with every value from outside (operation names from rule files, times) written
 * as a literal by the functions here — never concatenated raw. Column names are those of the
 * AzureActivity reference (MicrosoftDocs/azure-reference-other azure-monitor-ref/tables/azureactivity.md,
 * copied to /work/shared/reference/kql/AzureActivity.columns.md). docs/sources/workspace.md shows
 * each form and why it is shaped so; the emulator (emulator/logs.ts) recognises exactly these.
 */

import { KqlValueError, kqlString } from "../../kql/literals.js";

export { KqlValueError, kqlString } from "../../kql/literals.js";

/** Kusto keeps datetimes to 100 ns: a literal with all seven fraction digits. */
export function kqlDatetime(ms: number): string {
  return `datetime(${iso7(ms)})`;
}

/** ISO-8601 UTC with seven fraction digits (`2026-11-20T10:00:00.1230000Z`). */
export function iso7(ms: number, extraTicks = 0): string {
  const base = new Date(ms).toISOString(); // …:ss.fffZ
  return `${base.slice(0, -1)}${String(extraTicks).padStart(4, "0")}Z`;
}

/**
 * A slice of the window: [from, to) in epoch milliseconds, or [from, to] when `closed` (the last
 * slice, so the window's own end is included as `--until` means).
 */
export interface Slice {
  from: number;
  to: number;
  closed: boolean;
}

/** `between` is inclusive at both ends: a half-open slice ends one tick (100 ns) before `to`. */
function timeClause(s: Slice): string {
  const end = s.closed ? iso7(s.to) : iso7(s.to - 1, 9999);
  return `| where TimeGenerated between (${kqlDatetime(s.from)} .. datetime(${end}))`;
}

function opList(operations: readonly string[]): string {
  return `(${operations.map(kqlString).join(", ")})`;
}

/**
 * The columns read from full rows: what `fromTable` (azure/normalize/activity.ts) maps, in the
 * current schema's spelling (the `…Value` and `…_d` columns; the deprecated ones are empty —
 * "Data structure changes" in MicrosoftDocs/azure-docs articles/azure-monitor/essentials/activity-log.md).
 */
export const EVENT_COLUMNS = [
  "TimeGenerated",
  "OperationNameValue",
  "EventDataId",
  "CorrelationId",
  "OperationId",
  "CategoryValue",
  "ActivityStatusValue",
  "ActivitySubstatusValue",
  "Level",
  "_ResourceId",
  "SubscriptionId",
  "ResourceGroup",
  "ResourceProviderValue",
  "Caller",
  "CallerIpAddress",
  "HTTPRequest",
  "Claims_d",
  "Authorization_d",
  "Properties_d",
] as const;

/** Form 1: the events of the operations rules read (all operations when `operations` is undefined), in full. */
export function eventsQuery(s: Slice, operations: readonly string[] | undefined, take: number): string {
  return [
    "AzureActivity",
    timeClause(s),
    ...(operations ? [`| where OperationNameValue in~ ${opList(operations)}`] : []),
    `| project ${EVENT_COLUMNS.join(", ")}`,
    `| take ${take}`,
  ].join("\n");
}

/**
 * The fields first-seen baselines key on, computed by the workspace exactly as the normaliser and
 * azure/fields.ts compute them from a full event (principalFrom, the appid/azp claims, ipPrefix,
 * topResource, the lower-cased operation), so a baseline from summary rows is the baseline the
 * events would have made.
 */
export const LEAN_EXTEND = [
  "| extend PrincipalId = tostring(coalesce(Claims_d['http://schemas.microsoft.com/identity/claims/objectidentifier'], Claims_d['oid'], Authorization_d['evidence']['principalId']))",
  "| extend PrincipalId = iff(isempty(PrincipalId) and Caller matches regex '(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', Caller, PrincipalId)",
  "| extend AppId = tostring(coalesce(Claims_d['appid'], Claims_d['azp']))",
  "| extend CallerIpPrefix = case(CallerIpAddress matches regex '^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$', strcat(extract('^([0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3})[.]', 1, CallerIpAddress), '.0/24'), indexof(CallerIpAddress, ':') >= 0, strcat(strcat_array(array_slice(split(tolower(CallerIpAddress), ':'), 0, 2), ':'), '::/48'), CallerIpAddress)",
  "| extend TopResourceId = tolower(iff(_ResourceId matches regex '(?i)^.*?/providers/[^/]+/[^/]+/[^/]+', extract('(?i)^(.*?/providers/[^/]+/[^/]+/[^/]+)', 1, _ResourceId), _ResourceId))",
  "| extend Operation = tolower(OperationNameValue)",
] as const;

/** Summary column per first-seen field (the lower-cased names of prefilter.ts's LEAN_TUPLE_FIELDS). */
export const BASELINE_COLUMN: Readonly<Record<string, string>> = {
  "principal.id": "PrincipalId",
  "principal.appid": "AppId",
  calleripprefix: "CallerIpPrefix",
  topresourceid: "TopResourceId",
  operationname: "Operation",
  operationnamevalue: "Operation",
};

/** The summary columns for a set of first-seen tuples, in a fixed order. */
export function baselineColumns(tuples: readonly (readonly string[])[]): string[] {
  const wanted = new Set<string>();
  for (const t of tuples) {
    for (const f of t) {
      const c = BASELINE_COLUMN[f.toLowerCase()];
      if (!c) throw new KqlValueError(`first-seen field ${f} has no workspace summary column`);
      wanted.add(c);
    }
  }
  return ["PrincipalId", "AppId", "CallerIpPrefix", "TopResourceId", "Operation"].filter((c) => wanted.has(c));
}

/**
 * Form 2: events of every other operation, summarised: how many, their first and last time, and
 * the earliest time of each combination of the first-seen fields (`by`; none when no first-seen
 * rule is loaded).
 */
export function baselineQuery(s: Slice, operations: readonly string[], by: readonly string[], take: number): string {
  return [
    "AzureActivity",
    timeClause(s),
    `| where isnotempty(OperationNameValue) and not(OperationNameValue in~ ${opList(operations)})`,
    ...LEAN_EXTEND,
    `| summarize FirstSeen = min(TimeGenerated), LastSeen = max(TimeGenerated), Events = count()${by.length > 0 ? ` by ${by.join(", ")}` : ""}`,
    `| take ${take}`,
  ].join("\n");
}

/** What the writes summary keeps of the latest write: what attribution's summary of an event reads. */
export const WRITE_COLUMNS = [
  "EventDataId",
  "CorrelationId",
  "OperationNameValue",
  "ActivityStatusValue",
  "SubscriptionId",
  "Caller",
  "CallerIpAddress",
  "Claims_d",
  "Authorization_d",
] as const;

/**
 * Form 3: for writes and actions of every other operation, per resource, the latest successful
 * one and the latest other one (attribution keeps the latest successful write, else the latest).
 */
export function writesQuery(s: Slice, operations: readonly string[], take: number): string {
  return [
    "AzureActivity",
    timeClause(s),
    `| where not(OperationNameValue in~ ${opList(operations)})`,
    "| where isnotempty(_ResourceId) and (OperationNameValue endswith '/write' or OperationNameValue endswith '/action')",
    `| summarize arg_max(TimeGenerated, ${WRITE_COLUMNS.join(", ")}) by _ResourceId, Succeeded = ActivityStatusValue in~ ('Succeeded', 'Success')`,
    `| take ${take}`,
  ].join("\n");
}
