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
  if (isObj(a.evidence)) out.evidence = Object.freeze(stringRecord(a.evidence));
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

export function fromRest(o: Json, origin: Origin): ActivityEvent | undefined {
  const operationName = pairValue(o.operationName);
  const time = str(o.eventTimestamp);
  if (!operationName || !time) return undefined;
  const claims = stringRecord(o.claims);
  const authorization = authFrom(o.authorization);
  const httpRequest = httpFrom(o.httpRequest);
  const caller = str(o.caller);
  return finish({
    eventDataId: str(o.eventDataId),
    correlationId: str(o.correlationId),
    operationId: str(o.operationId),
    time,
    operationName,
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
    properties: Object.freeze(isObj(o.properties) ? o.properties : {}),
    origin,
    raw: o,
  });
}

export function fromExport(o: Json, origin: Origin): ActivityEvent | undefined {
  const operationName = str(o.operationName);
  const time = str(o.time);
  if (!operationName || !time) return undefined;
  const identity = isObj(o.identity) ? o.identity : {};
  const claims = stringRecord(identity.claims);
  const authorization = authFrom(identity.authorization);
  const props = isObj(o.properties) ? o.properties : {};
  // The caller is not a column of its own in exports; the claims carry it.
  const caller = claims[CLAIM_UPN] ?? claims[CLAIM_OID] ?? undefined;
  return finish({
    correlationId: str(o.correlationId),
    operationId: str(props.operationId),
    time,
    operationName,
    category: str(props.eventCategory) ?? str(o.category),
    status: normStatus(str(o.resultType)),
    subStatus: str(o.resultSignature),
    eventName: str(props.eventName),
    level: str(o.level),
    resourceId: str(o.resourceId),
    tenantId: claims[CLAIM_TENANT],
    caller,
    callerIpAddress: str(o.callerIpAddress),
    principal: principalFrom(claims, authorization?.evidence, caller),
    claims: Object.freeze(claims),
    authorization,
    properties: Object.freeze(isObj(props.eventProperties) ? props.eventProperties : props),
    origin,
    raw: o,
  });
}

export function fromTable(o: Json, origin: Origin): ActivityEvent | undefined {
  const operationName = str(o.OperationNameValue) ?? str(o.OperationName);
  const time = str(o.TimeGenerated);
  if (!operationName || !time) return undefined;
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
    operationName,
    operationLocalized: str(o.OperationName),
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
    raw: o,
  });
}

/** The request body Azure logs for some writes (a JSON string in properties.requestbody). */
export function requestBody(e: ActivityEvent): Json | undefined {
  const rb = e.properties.requestbody ?? e.properties.requestBody;
  return jsonish(rb);
}
