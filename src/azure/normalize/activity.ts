/**
 * Activity Log normalisation. Three shapes map onto one ActivityEvent:
 * - REST `eventtypes/management/values` (and `az monitor activity-log list`): see
 *   reference azure-rest-api-specs …/Microsoft.Insights/stable/2015-04-01/examples/GetActivityLogsFiltered.json
 * - diagnostic-settings export (Storage PT1H.json lines, Event Hub `records[]`): mapping table in
 *   reference activity-log/…/activity-log-schema.md (time ← eventTimestamp, operationName ←
 *   operationName.value, resultType ← status.value, resultSignature ← subStatus.value,
 *   callerIpAddress ← httpRequest.clientIpAddress, identity ← claims + authorization,
 *   properties ← properties, properties.eventCategory ← category, properties.eventName ← eventName,
 *   properties.operationId ← operationId)
 * - AzureActivity table rows (Log Analytics): column list in reference kql/AzureActivity.schema.json
 */
import { createHash } from "node:crypto";
import type { ActivityEvent, Origin, Principal } from "../../model/records.js";
import { isProviderOperation, operationForDisplayName } from "../catalog/localized-operations.js";
import {
  isObj,
  type Json,
  jsonish,
  localizedOf,
  pairValue,
  parseResourceId,
  str,
  stringRecord,
  stripUndefined,
  utcTime,
} from "./util.js";

const CLAIM_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const CLAIM_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
const CLAIM_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
const CLAIM_TENANT = "http://schemas.microsoft.com/identity/claims/tenantid";

/** Export `resultType` values and the REST status they stand for. */
export const RESULT_TYPE_STATUS: Record<string, string> = {
  start: "Started",
  started: "Started",
  accept: "Accepted",
  accepted: "Accepted",
  success: "Succeeded",
  succeeded: "Succeeded",
  failure: "Failed",
  failed: "Failed",
  fail: "Failed",
};

export function normStatus(s: string | undefined): string | undefined {
  if (!s) return undefined;
  return RESULT_TYPE_STATUS[s.toLowerCase()] ?? s;
}

export function isRestActivity(o: Json): boolean {
  return isObj(o.operationName) && (o.eventTimestamp !== undefined || o.eventDataId !== undefined);
}

export function isExportActivity(o: Json): boolean {
  return (
    typeof o.operationName === "string" &&
    typeof o.time === "string" &&
    ("resourceId" in o || "identity" in o || "category" in o)
  );
}

export function isTableActivity(o: Json): boolean {
  return typeof o.OperationNameValue === "string" || (o.Type === "AzureActivity" && "OperationName" in o);
}

function principalFrom(
  claims: Record<string, string>,
  evidence: Record<string, string> | undefined,
  caller: string | undefined,
): Principal {
  const p: Principal = {};
  const oid = claims[CLAIM_OID] ?? claims.oid ?? evidence?.principalId;
  if (oid) p.id = oid;
  const name = claims[CLAIM_UPN] ?? claims.upn ?? claims.unique_name ?? claims[CLAIM_NAME]?.trim() ?? caller;
  if (name) p.name = name;
  const appId = claims.appid ?? claims.azp;
  if (appId) p.appId = appId;
  if (evidence?.principalType) p.type = evidence.principalType;
  else if (claims[CLAIM_UPN] || claims.upn) p.type = "User";
  else if (appId && oid && caller && caller.toLowerCase() === oid.toLowerCase()) {
    // An app-only token: Azure writes the service principal's object id as the caller.
    p.type = "ServicePrincipal";
  }
  if (!p.id && caller && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(caller)) p.id = caller;
  return p;
}

function syntheticId(parts: (string | undefined)[]): string {
  return `synthetic:${createHash("sha256")
    .update(parts.map((p) => p ?? "").join("\u0000"))
    .digest("hex")
    .slice(0, 32)}`;
}

function finish(
  e: Omit<
    ActivityEvent,
    "kind" | "id" | "operation" | "subscriptionId" | "resourceGroup" | "resourceProvider" | "resourceType"
  > &
    Partial<ActivityEvent>,
): ActivityEvent {
  const parsed = parseResourceId(e.resourceId);
  const ev: ActivityEvent = {
    ...e,
    kind: "activity",
    id: e.eventDataId ?? syntheticId([e.time, e.operationName, e.resourceId, e.correlationId, e.status, e.caller]),
    operation: e.operationName.toLowerCase(),
    subscriptionId: e.subscriptionId ?? parsed.subscriptionId,
    resourceGroup: e.resourceGroup ?? parsed.resourceGroup,
    resourceProvider: e.resourceProvider ?? parsed.provider,
    resourceType: e.resourceType ?? parsed.type,
  };
  return Object.freeze(stripUndefined(ev));
}

function authFrom(v: unknown): ActivityEvent["authorization"] | undefined {
  const a = jsonish(v);
  if (!a) return undefined;
  const out: NonNullable<ActivityEvent["authorization"]> = {};
  const action = str(a.action);
  const scope = str(a.scope);
  const role = str(a.role);
  if (action) out.action = action;
  if (scope) out.scope = scope;
  if (role) out.role = role;
  const evidence = jsonish(a.evidence);
  if (evidence) out.evidence = Object.freeze(stringRecord(evidence));
  return out;
}

function httpFrom(v: unknown): ActivityEvent["httpRequest"] | undefined {
  const h = jsonish(v);
  if (!h) return undefined;
  const out: NonNullable<ActivityEvent["httpRequest"]> = {};
  for (const k of ["clientRequestId", "clientIpAddress", "method", "uri"] as const) {
    const s = str(h[k]);
    if (s) out[k] = s;
  }
  return out;
}

/** Why a record of an Activity Log shape could not be read, or that its operation is only a display name. */
export type ActivityRejection = { error: string } | { unresolved: string };
export type ActivityRead = ActivityEvent | ActivityRejection;

export function isRejection(r: ActivityRead): r is ActivityRejection {
  return "error" in r || "unresolved" in r;
}

/**
 * The start of a value's JSON, about `max` characters, without serialising the whole value: a
 * record's value may be megabytes, or nested 100k levels deep (JSON.stringify overflows the stack).
 */
function preview(v: unknown, max: number): string {
  let out = "";
  const walk = (x: unknown, depth: number): void => {
    if (out.length > max) return;
    if (x === null || typeof x !== "object") {
      out += typeof x === "string" ? JSON.stringify(x.slice(0, max)) : (JSON.stringify(x) ?? String(x));
      return;
    }
    const arr = Array.isArray(x);
    if (depth >= 4) {
      out += arr ? "[…]" : "{…}";
      return;
    }
    out += arr ? "[" : "{";
    let first = true;
    for (const k in x) {
      if (out.length > max) break;
      if (!first) out += ",";
      first = false;
      if (!arr) out += `${JSON.stringify(k.slice(0, max))}:`;
      walk((x as Record<string, unknown>)[k], depth + 1);
    }
    out += arr ? "]" : "}";
  };
  walk(v, 0);
  return out;
}

/** Attacker-controlled text quoted in a message: one line, capped. */
export function quote(v: unknown): string {
  const s = typeof v === "string" ? v : preview(v, 61);
  // JSON.stringify escapes control characters, so the quote stays on one line.
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

/**
 * The operation: the provider operation when given, else the one its display name stands for.
 * Undefined operation with `unresolved`: only a display name no source maps.
 */
function operationOf(value: string | undefined, display: string | undefined): { op?: string; unresolved?: string } {
  if (value && isProviderOperation(value)) return { op: value };
  for (const name of [value, display]) {
    if (!name) continue;
    const op = operationForDisplayName(name);
    if (op) return { op };
  }
  const shown = value ?? display;
  return shown ? { unresolved: shown } : {};
}

function unresolved(name: string, field: string): ActivityRejection {
  return {
    unresolved: `has only the display name ${quote(name)} in ${field}, which maps to no known operation (operation name not resolvable)`,
  };
}

/** The time in UTC ISO-8601, or why not. */
function timeOf(raw: unknown, field: string): string | ActivityRejection {
  const t = utcTime(str(raw));
  if (t) return t;
  return { error: `has a time that is not an ISO-8601 date-time: ${field} ${quote(raw)}` };
}

function missing(what: string, looked: string, o: Json): ActivityRejection {
  const keys = Object.keys(o);
  const shown = keys.slice(0, 12).join(", ") + (keys.length > 12 ? `, … (${keys.length} fields)` : "");
  return { error: `has no ${what}: looked for ${looked}; found fields ${shown || "(none)"}` };
}

export function readRest(o: Json, origin: Origin, raw: unknown = o): ActivityRead {
  const name = operationOf(pairValue(o.operationName), localizedOf(o.operationName));
  if (name.unresolved) return unresolved(name.unresolved, "operationName");
  if (!name.op) return missing("operation name", "operationName.value, operationName.localizedValue", o);
  // Without eventTimestamp (a `--select` that left it out) the submission time is the nearest.
  const timeField = ["eventTimestamp", "time", "submissionTimestamp"].find((k) => o[k] !== undefined);
  if (timeField === undefined) return missing("time", "eventTimestamp, time, submissionTimestamp", o);
  const time = timeOf(o[timeField], timeField);
  if (typeof time !== "string") return time;
  const claims = stringRecord(jsonish(o.claims));
  const authorization = authFrom(o.authorization);
  const httpRequest = httpFrom(o.httpRequest);
  const caller = str(o.caller);
  return finish({
    eventDataId: str(o.eventDataId),
    correlationId: str(o.correlationId),
    operationId: str(o.operationId),
    time,
    operationName: name.op,
    operationLocalized: localizedOf(o.operationName),
    category: pairValue(o.category),
    status: normStatus(pairValue(o.status)),
    subStatus: pairValue(o.subStatus),
    eventName: pairValue(o.eventName),
    level: str(o.level),
    resourceId: str(o.resourceId) ?? authorization?.scope,
    subscriptionId: str(o.subscriptionId),
    resourceGroup: str(o.resourceGroupName),
    resourceProvider: pairValue(o.resourceProviderName),
    resourceType: pairValue(o.resourceType),
    tenantId: str(o.tenantId) ?? claims[CLAIM_TENANT],
    caller,
    callerIpAddress: httpRequest?.clientIpAddress,
    principal: principalFrom(claims, authorization?.evidence, caller),
    claims: Object.freeze(claims),
    authorization,
    httpRequest,
    // The AzureActivity Properties column, and some exporters, hold it as JSON text.
    properties: Object.freeze(jsonish(o.properties) ?? {}),
    origin,
    raw,
  });
}

export function fromRest(o: Json, origin: Origin): ActivityEvent | undefined {
  const r = readRest(o, origin);
  return isRejection(r) ? undefined : r;
}

export function readExport(o: Json, origin: Origin, raw: unknown = o): ActivityRead {
  const name = operationOf(pairValue(o.operationName), localizedOf(o.operationName));
  if (name.unresolved) return unresolved(name.unresolved, "operationName");
  if (!name.op) return missing("operation name", "operationName", o);
  const rawTime = o.time ?? o.eventTimestamp;
  if (rawTime === undefined) return missing("time", "time, eventTimestamp", o);
  const time = timeOf(rawTime, o.time !== undefined ? "time" : "eventTimestamp");
  if (typeof time !== "string") return time;
  const identity = jsonish(o.identity) ?? {};
  const claims = stringRecord(jsonish(identity.claims));
  const authorization = authFrom(identity.authorization);
  const props = jsonish(o.properties) ?? {};
  // The caller is not a column of its own in exports; the claims carry it.
  const caller = claims[CLAIM_UPN] ?? claims[CLAIM_OID] ?? undefined;
  return finish({
    correlationId: str(o.correlationId),
    operationId: str(props.operationId),
    time,
    operationName: name.op,
    operationLocalized: localizedOf(o.operationName),
    category: str(props.eventCategory) ?? pairValue(o.category),
    status: normStatus(pairValue(o.resultType)),
    subStatus: pairValue(o.resultSignature),
    eventName: str(props.eventName),
    level: str(o.level),
    resourceId: str(o.resourceId),
    tenantId: claims[CLAIM_TENANT],
    caller,
    callerIpAddress: str(o.callerIpAddress),
    principal: principalFrom(claims, authorization?.evidence, caller),
    claims: Object.freeze(claims),
    authorization,
    properties: Object.freeze(jsonish(props.eventProperties) ?? props),
    origin,
    raw,
  });
}

export function fromExport(o: Json, origin: Origin): ActivityEvent | undefined {
  const r = readExport(o, origin);
  return isRejection(r) ? undefined : r;
}

export function readTable(o: Json, origin: Origin, raw: unknown = o): ActivityRead {
  const value = str(o.OperationNameValue);
  const localized = str(o.OperationName);
  const name = operationOf(value ?? localized, localized);
  if (name.unresolved) return unresolved(name.unresolved, value !== undefined ? "OperationNameValue" : "OperationName");
  if (!name.op) return missing("operation name", "OperationNameValue, OperationName", o);
  if (o.TimeGenerated === undefined) return missing("time", "TimeGenerated", o);
  const time = timeOf(o.TimeGenerated, "TimeGenerated");
  if (typeof time !== "string") return time;
  const claims = stringRecord(jsonish(o.Claims_d) ?? jsonish(o.Claims));
  const authorization = authFrom(o.Authorization_d ?? o.Authorization);
  const httpRequest = httpFrom(o.HTTPRequest);
  const caller = str(o.Caller);
  const props = jsonish(o.Properties_d) ?? jsonish(o.Properties) ?? {};
  return finish({
    eventDataId: str(o.EventDataId),
    correlationId: str(o.CorrelationId),
    operationId: str(o.OperationId),
    time,
    operationName: name.op,
    operationLocalized: localized,
    category: str(o.CategoryValue) ?? str(o.Category),
    status: normStatus(str(o.ActivityStatusValue) ?? str(o.ActivityStatus)),
    subStatus: str(o.ActivitySubstatusValue) ?? str(o.ActivitySubstatus),
    level: str(o.Level),
    resourceId: str(o._ResourceId) ?? str(o.ResourceId),
    subscriptionId: str(o.SubscriptionId),
    resourceGroup: str(o.ResourceGroup),
    resourceProvider: str(o.ResourceProviderValue) ?? str(o.ResourceProvider),
    // TenantId in this table is the workspace id, not the Entra tenant.
    tenantId: claims[CLAIM_TENANT],
    caller,
    callerIpAddress: str(o.CallerIpAddress) ?? httpRequest?.clientIpAddress,
    principal: principalFrom(claims, authorization?.evidence, caller),
    claims: Object.freeze(claims),
    authorization,
    httpRequest,
    properties: Object.freeze(props),
    origin,
    raw,
  });
}

export function fromTable(o: Json, origin: Origin): ActivityEvent | undefined {
  const r = readTable(o, origin);
  return isRejection(r) ? undefined : r;
}

/** The request body Azure logs for some writes (a JSON string in properties.requestbody). */
export function requestBody(e: ActivityEvent): Json | undefined {
  const rb = e.properties.requestbody ?? e.properties.requestBody;
  return jsonish(rb);
}
