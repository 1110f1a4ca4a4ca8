/**
 * Log Analytics query front (stage 2): `POST /v1/workspaces/{workspaceId}/query`, as
 * @azure/monitor-query-logs' LogsQueryClient.queryWorkspace sends it (body `{query, timespan}`;
 * answer `{tables: [{name, columns: [{name, type}], rows}]}` and, for a partial result, `error`
 * beside the tables — the QueryResults / Table / Column / ErrorInfo models of the SDK,
 * node_modules/@azure/monitor-query-logs/dist/esm/models/models.js).
 *
 * One workspace, holding the AzureActivity rows of every subscription of the snapshot: the same
 * (time-shifted) REST events the ARM Activity Log endpoint serves, mapped to the table's columns.
 * Columns and types: MicrosoftDocs/azure-reference-other azure-monitor-ref/tables/azureactivity.md
 * (/work/shared/reference/kql/AzureActivity.columns.md). REST → column: the table "Data structure
 * changes" of MicrosoftDocs/azure-docs articles/azure-monitor/essentials/activity-log.md (category →
 * CategoryValue, status → ActivityStatusValue, subStatus → ActivitySubstatusValue, operationName →
 * OperationNameValue, resourceProviderName → ResourceProviderValue; the deprecated Category,
 * ActivityStatus, ActivitySubstatus, OperationName and ResourceProvider "have no data"; the
 * Authorization_d, Claims_d and Properties_d columns were added), and each column's description in
 * the table reference. docs/emulator.md ("Log Analytics") lists the mapping.
 *
 * It is not a KQL engine: it recognises exactly the three query forms the workspace collector
 * sends (src/collectors/workspace/kql.ts), written out again here, and answers 400 to anything else.
 */
import { createHash } from "node:crypto";
import { isoToTicks } from "./activity.ts";
import type { Ctx, Route } from "./arm.ts";
import type { Snapshot } from "./snapshot.ts";
import { guidFrom, isObject, type Json, type JsonObject, json, lc, type Reply } from "./util.ts";

/** The id of the emulated workspace: a GUID hashed from the snapshot's tenant id, stable across runs. */
export function workspaceIdFor(snap: Snapshot): string {
  return guidFrom(createHash("sha256").update(`workspace:${snap.tenantId}`).digest("hex"));
}

/** The service's row cap per answer (Azure Monitor service limits, Query API: 500,000 records). */
export const DEFAULT_LOGS_ROW_LIMIT = 500_000;

/** Column types of AzureActivity (the table reference; anything not listed is string). */
const DATETIME = new Set(["TimeGenerated", "EventSubmissionTimestamp"]);
const DYNAMIC = new Set(["Authorization_d", "Claims_d", "Properties_d"]);
const COLUMNS = [
  "ActivityStatus",
  "ActivityStatusValue",
  "ActivitySubstatus",
  "ActivitySubstatusValue",
  "Authorization",
  "Authorization_d",
  "Caller",
  "CallerIpAddress",
  "Category",
  "CategoryValue",
  "Claims",
  "Claims_d",
  "CorrelationId",
  "EventDataId",
  "EventSubmissionTimestamp",
  "Hierarchy",
  "HTTPRequest",
  "Level",
  "OperationId",
  "OperationName",
  "OperationNameValue",
  "Properties",
  "Properties_d",
  "Resource",
  "ResourceGroup",
  "_ResourceId",
  "ResourceId",
  "ResourceProvider",
  "ResourceProviderValue",
  "SourceSystem",
  "SubscriptionId",
  "_SubscriptionId",
  "TenantId",
  "TimeGenerated",
  "Type",
];
const COLUMN_SET = new Set(COLUMNS);

type Row = Record<string, Json>;

function s(v: Json | undefined): string {
  return typeof v === "string" ? v : "";
}
function value(v: Json | undefined): string {
  return isObject(v) ? s(v.value) : s(v);
}
function localized(v: Json | undefined): string {
  return isObject(v) ? s(v.localizedValue) || s(v.value) : s(v);
}

/** One REST EventData (already time-shifted) as an AzureActivity row. */
export function toRow(e: JsonObject, workspaceId: string): Row {
  const http = isObject(e.httpRequest) ? e.httpRequest : {};
  const props = isObject(e.properties) ? e.properties : {};
  const claims = isObject(e.claims) ? e.claims : {};
  const authz = isObject(e.authorization) ? e.authorization : {};
  const resourceId = s(e.resourceId);
  return {
    TimeGenerated: s(e.eventTimestamp),
    EventSubmissionTimestamp: s(e.submissionTimestamp) || null,
    OperationNameValue: value(e.operationName),
    CategoryValue: value(e.category),
    // "Values change to succeeded, started, accepted, failed": REST's status.value.
    ActivityStatusValue: value(e.status),
    // "Substatus of the operation in display-friendly format. E.g. OK (HTTP Status Code: 200)".
    ActivitySubstatusValue: localized(e.subStatus),
    ResourceProviderValue: value(e.resourceProviderName),
    // Deprecated: "They still exist in AzureActivity but they have no data."
    OperationName: "",
    Category: "",
    ActivityStatus: "",
    ActivitySubstatus: "",
    ResourceProvider: "",
    Level: s(e.level),
    ResourceGroup: s(e.resourceGroupName),
    SubscriptionId: s(e.subscriptionId),
    _SubscriptionId: s(e.subscriptionId),
    // Azure's spelling of the id, as the REST event has it (real workspaces may change its case).
    ResourceId: resourceId,
    _ResourceId: resourceId,
    Resource: resourceId.split("/").filter(Boolean).pop() ?? "",
    Caller: s(e.caller),
    CallerIpAddress: s(http.clientIpAddress),
    CorrelationId: s(e.correlationId),
    EventDataId: s(e.eventDataId),
    OperationId: s(e.operationId),
    HTTPRequest: Object.keys(http).length > 0 ? JSON.stringify(http) : "",
    Claims: JSON.stringify(claims),
    Claims_d: claims,
    Authorization: JSON.stringify(authz),
    Authorization_d: authz,
    Properties: JSON.stringify(props),
    Properties_d: props,
    Hierarchy: s(props.hierarchy),
    // "ID of the workspace that stores this record".
    TenantId: workspaceId,
    SourceSystem: "Azure",
    Type: "AzureActivity",
  };
}

// ---------------------------------------------------------------------------------------------
// The query forms
// ---------------------------------------------------------------------------------------------

export class QueryError extends Error {}

const DT = String.raw`datetime\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z)\)`;
const LIST = String.raw`\(((?:"(?:[^"\\]|\\.)*"(?:, )?)+)\)`;
const HEAD = String.raw`^AzureActivity \| where TimeGenerated between \(${DT} \.\. ${DT}\)`;
const TAKE = String.raw` \| take (\d+)$`;
const NAMES = "([A-Za-z_]+(?:, [A-Za-z_]+)*)";

const EXTEND = [
  "| extend PrincipalId = tostring(coalesce(Claims_d['http://schemas.microsoft.com/identity/claims/objectidentifier'], Claims_d['oid'], Authorization_d['evidence']['principalId']))",
  "| extend PrincipalId = iff(isempty(PrincipalId) and Caller matches regex '(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', Caller, PrincipalId)",
  "| extend AppId = tostring(coalesce(Claims_d['appid'], Claims_d['azp']))",
  "| extend CallerIpPrefix = case(CallerIpAddress matches regex '^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$', strcat(extract('^([0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3})[.]', 1, CallerIpAddress), '.0/24'), indexof(CallerIpAddress, ':') >= 0, strcat(strcat_array(array_slice(split(tolower(CallerIpAddress), ':'), 0, 2), ':'), '::/48'), CallerIpAddress)",
  "| extend TopResourceId = tolower(iff(_ResourceId matches regex '(?i)^.*?/providers/[^/]+/[^/]+/[^/]+', extract('(?i)^(.*?/providers/[^/]+/[^/]+/[^/]+)', 1, _ResourceId), _ResourceId))",
  "| extend Operation = tolower(OperationNameValue)",
].join(" ");

const escapeRe = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const EVENTS = new RegExp(`${HEAD}(?: \\| where OperationNameValue in~ ${LIST})? \\| project ${NAMES}${TAKE}`);
const BASELINE = new RegExp(
  `${HEAD} \\| where isnotempty\\(OperationNameValue\\) and not\\(OperationNameValue in~ ${LIST}\\) ${escapeRe(EXTEND)} \\| summarize FirstSeen = min\\(TimeGenerated\\), LastSeen = max\\(TimeGenerated\\), Events = count\\(\\)(?: by ${NAMES})?${TAKE}`,
);
const WRITES = new RegExp(
  `${HEAD} \\| where not\\(OperationNameValue in~ ${LIST}\\) \\| where isnotempty\\(_ResourceId\\) and \\(OperationNameValue endswith '/write' or OperationNameValue endswith '/action'\\) \\| summarize arg_max\\(TimeGenerated, ${NAMES}\\) by _ResourceId, Succeeded = ActivityStatusValue in~ \\('Succeeded', 'Success'\\)${TAKE}`,
);
const LEAN = ["PrincipalId", "AppId", "CallerIpPrefix", "TopResourceId", "Operation"];

/** The string literals of an `in~ (…)` list, unescaped. */
function literals(list: string): Set<string> {
  const out = new Set<string>();
  for (const m of list.matchAll(/"((?:[^"\\]|\\.)*)"/g)) out.add(lc((m[1] as string).replace(/\\(.)/g, "$1")));
  return out;
}

function columns(names: string, allowed: (n: string) => boolean): string[] {
  const out = names.split(", ");
  for (const n of out) if (!allowed(n)) throw new QueryError(`'${n}' is not a column here`);
  return out;
}

/** Kusto compares datetimes to the tick (100 ns); so does this. */
const ticks = (iso: string) => BigInt(isoToTicks(iso));

function lean(r: Row): Record<string, string> {
  const claims = isObject(r.Claims_d) ? r.Claims_d : {};
  const authz = isObject(r.Authorization_d) ? r.Authorization_d : {};
  const evidence = isObject(authz.evidence) ? authz.evidence : {};
  // coalesce: the first argument that is not null (a missing member is null).
  const first = (...xs: (Json | undefined)[]) => {
    const v = xs.find((x) => x !== undefined && x !== null);
    return v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
  };
  const caller = s(r.Caller);
  let principal = first(
    claims["http://schemas.microsoft.com/identity/claims/objectidentifier"],
    claims.oid,
    evidence.principalId,
  );
  if (principal === "" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(caller))
    principal = caller;
  const ip = s(r.CallerIpAddress);
  const v4 = /^([0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3})[.][0-9]{1,3}$/.exec(ip);
  const prefix = v4
    ? `${v4[1]}.0/24`
    : ip.includes(":")
      ? `${ip.toLowerCase().split(":").slice(0, 3).join(":")}::/48`
      : ip;
  const rid = s(r._ResourceId);
  const top = /^(.*?\/providers\/[^/]+\/[^/]+\/[^/]+)/i.exec(rid);
  return {
    PrincipalId: principal,
    AppId: first(claims.appid, claims.azp),
    CallerIpPrefix: prefix,
    TopResourceId: (top ? (top[1] as string) : rid).toLowerCase(),
    Operation: s(r.OperationNameValue).toLowerCase(),
  };
}

interface Answer {
  columns: { name: string; type: string }[];
  rows: Json[][];
}

const typeOf = (c: string) => (DATETIME.has(c) ? "datetime" : DYNAMIC.has(c) ? "dynamic" : "string");
/** Dynamic values go out as JSON text, as the service writes them (the SDK parses them back). */
const cell = (c: string, v: Json | undefined): Json =>
  v === undefined ? null : DYNAMIC.has(c) ? JSON.stringify(v) : v === "" && DATETIME.has(c) ? null : v;

/** Runs one recognised query over the workspace's rows; QueryError for anything else. */
export function runQuery(query: string, all: readonly Row[]): Answer {
  const q = query.replace(/\s+/g, " ").trim();
  const inWindow = (from: string, to: string) => {
    const a = ticks(from);
    const b = ticks(to);
    return all.filter((r) => {
      const t = ticks(s(r.TimeGenerated));
      return t >= a && t <= b;
    });
  };
  let m = EVENTS.exec(q);
  if (m) {
    const ops = m[3] === undefined ? undefined : literals(m[3]);
    const cols = columns(m[4] as string, (n) => COLUMN_SET.has(n));
    const take = Number(m[5]);
    const rows = inWindow(m[1] as string, m[2] as string).filter((r) => !ops || ops.has(lc(s(r.OperationNameValue))));
    return {
      columns: cols.map((c) => ({ name: c, type: typeOf(c) })),
      rows: rows.slice(0, take).map((r) => cols.map((c) => cell(c, r[c]))),
    };
  }
  m = BASELINE.exec(q);
  if (m) {
    const ops = literals(m[3] as string);
    const by = m[4] === undefined ? [] : columns(m[4], (n) => LEAN.includes(n));
    const take = Number(m[5]);
    const groups = new Map<
      string,
      { key: string[]; min: bigint; minIso: string; max: bigint; maxIso: string; n: number }
    >();
    for (const r of inWindow(m[1] as string, m[2] as string)) {
      const op = s(r.OperationNameValue);
      if (op === "" || ops.has(lc(op))) continue;
      const l = lean(r);
      const key = by.map((c) => l[c] as string);
      const k = JSON.stringify(key);
      const t = ticks(s(r.TimeGenerated));
      const iso = s(r.TimeGenerated);
      const g = groups.get(k);
      if (!g) groups.set(k, { key, min: t, minIso: iso, max: t, maxIso: iso, n: 1 });
      else {
        g.n++;
        if (t < g.min) [g.min, g.minIso] = [t, iso];
        if (t > g.max) [g.max, g.maxIso] = [t, iso];
      }
    }
    const rows: Json[][] = [...groups.values()].map((g) => [...g.key, g.minIso, g.maxIso, g.n]);
    // summarize without `by` over no rows still answers one row.
    if (by.length === 0 && rows.length === 0) rows.push([null, null, 0]);
    return {
      columns: [
        ...by.map((c) => ({ name: c, type: "string" })),
        { name: "FirstSeen", type: "datetime" },
        { name: "LastSeen", type: "datetime" },
        { name: "Events", type: "long" },
      ],
      rows: rows.slice(0, take),
    };
  }
  m = WRITES.exec(q);
  if (m) {
    const ops = literals(m[3] as string);
    const cols = columns(m[4] as string, (n) => COLUMN_SET.has(n));
    const take = Number(m[5]);
    const best = new Map<string, { row: Row; t: bigint; ok: boolean }>();
    for (const r of inWindow(m[1] as string, m[2] as string)) {
      const op = lc(s(r.OperationNameValue));
      const rid = s(r._ResourceId);
      if (ops.has(op) || rid === "" || !(op.endsWith("/write") || op.endsWith("/action"))) continue;
      const ok = ["succeeded", "success"].includes(lc(s(r.ActivityStatusValue)));
      const k = JSON.stringify([rid, ok]);
      const t = ticks(s(r.TimeGenerated));
      const prev = best.get(k);
      if (!prev || t > prev.t) best.set(k, { row: r, t, ok });
    }
    return {
      columns: [
        { name: "_ResourceId", type: "string" },
        { name: "Succeeded", type: "bool" },
        { name: "TimeGenerated", type: "datetime" },
        ...cols.map((c) => ({ name: c, type: typeOf(c) })),
      ],
      rows: [...best.values()]
        .slice(0, take)
        .map((b) => [s(b.row._ResourceId), b.ok, s(b.row.TimeGenerated), ...cols.map((c) => cell(c, b.row[c]))]),
    };
  }
  throw new QueryError(
    "The emulator answers only the AzureActivity query forms the workspace collector sends (docs/emulator.md, Log Analytics).",
  );
}

// ---------------------------------------------------------------------------------------------
// The route
// ---------------------------------------------------------------------------------------------

/** The Log Analytics error shape: `{error: {code, message, innererror?}}` (the SDK's ErrorInfo). */
function logsError(status: number, code: string, message: string, inner?: JsonObject): Reply {
  const error: JsonObject = { code, message };
  if (inner) error.innererror = inner;
  return json(status, { error });
}

/** Rows per workspace, built once per snapshot. */
const rowsBySnapshot = new WeakMap<Snapshot, Row[]>();
function workspaceRows(snap: Snapshot, workspaceId: string): Row[] {
  let rows = rowsBySnapshot.get(snap);
  if (!rows) {
    rows = [];
    for (const list of snap.events.values()) for (const e of list) rows.push(toRow(e, workspaceId));
    rowsBySnapshot.set(snap, rows);
  }
  return rows;
}

/** `start/end` (ISO-8601 interval, what the SDK sends for a start and end time): rows outside it are left out. */
function parseTimespan(v: Json | undefined): [number, number] | undefined {
  if (v === undefined || v === null) return undefined;
  const parts = typeof v === "string" ? v.split("/") : [];
  const a = Date.parse(parts[0] ?? "");
  const b = Date.parse(parts[1] ?? "");
  if (parts.length !== 2 || Number.isNaN(a) || Number.isNaN(b))
    throw new QueryError(`unsupported timespan '${String(v)}'`);
  return [a, b];
}

function handle(ctx: Ctx, m: RegExpExecArray): Reply {
  const workspaceId = workspaceIdFor(ctx.snap);
  if (lc(m[1]) !== lc(workspaceId))
    return logsError(404, "WorkspaceNotFoundError", `The workspace '${m[1]}' could not be found.`);
  let body: unknown;
  try {
    body = JSON.parse(ctx.body.toString("utf8"));
  } catch {
    return logsError(400, "BadArgumentError", "The request body is not JSON.");
  }
  if (!isObject(body as Json) || typeof (body as JsonObject).query !== "string")
    return logsError(400, "BadArgumentError", "The request body needs a 'query' string.");
  const b = body as JsonObject;
  let answer: Answer;
  try {
    const span = parseTimespan(b.timespan);
    const rows = workspaceRows(ctx.snap, workspaceId).filter((r) => {
      if (!span) return true;
      const t = Date.parse(s(r.TimeGenerated));
      return t >= span[0] && t <= span[1];
    });
    answer = runQuery(b.query as string, rows);
  } catch (e) {
    if (e instanceof QueryError)
      return logsError(400, "BadArgumentError", "The request had some invalid properties", {
        code: "SyntaxError",
        message: e.message,
      });
    throw e;
  }
  const limit = ctx.env.logsRowLimit ?? DEFAULT_LOGS_ROW_LIMIT;
  const out: JsonObject = {
    tables: [{ name: "PrimaryResult", columns: answer.columns, rows: answer.rows.slice(0, limit) }],
  };
  if (answer.rows.length > limit) {
    // Past the row cap the service answers 200 with the rows it kept and an error beside them,
    // which the SDK turns into LogsQueryResultStatus.PartialFailure.
    out.error = {
      code: "PartialError",
      message: "There were some errors when processing your query.",
      details: [
        {
          code: "EngineError",
          message: "Something went wrong processing your query on the server.",
          innererror: {
            code: "-2133196797",
            message: `Query result set has exceeded the internal record count limit ${limit} (E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)`,
          },
        },
      ],
    };
  }
  return json(200, out);
}

export const logsRoutes: Route[] = [{ method: "POST", re: /^\/v1\/workspaces\/([^/]+)\/query$/i, handler: handle }];
