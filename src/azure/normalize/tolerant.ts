/**
 * The Activity Log records the strict readers (activity.ts) do not take as they are: field names
 * in another case at any level, members of one shape in a record of another (an export record
 * whose operationName is the REST `{value, localizedValue}`), nested members written as JSON
 * text. Such a record is rewritten with the field names of the shape it is closest to and read
 * by that shape's reader, so all three shapes keep one mapping (docs/inputs.md). Records that
 * are not Activity Log events at all — resource logs, sign-in logs, metrics — are recognised
 * here so that they are counted apart instead of being read as events or as unreadable.
 *
 * Only records the strict path did not take come here: the common case never pays for it.
 */
import type { Origin } from "../../model/records.js";
import { isProviderOperation } from "../catalog/localized-operations.js";
import { type ActivityRead, quote, readExport, readRest, readTable } from "./activity.js";
import { isObj, type Json, jsonish, str } from "./util.js";

/** Top-level fields of each shape, as Azure spells them (sources in activity.ts). */
const REST_KEYS = [
  "authorization",
  "caller",
  "channels",
  "claims",
  "correlationId",
  "description",
  "eventDataId",
  "eventName",
  "category",
  "httpRequest",
  "level",
  "resourceGroupName",
  "resourceProviderName",
  "resourceId",
  "resourceType",
  "operationId",
  "operationName",
  "properties",
  "status",
  "subStatus",
  "eventTimestamp",
  "submissionTimestamp",
  "subscriptionId",
  "tenantId",
  // Found in records that mix the two conventions; read as the REST reader's fallback.
  "time",
];
const EXPORT_KEYS = [
  "time",
  "resourceId",
  "operationName",
  "category",
  "resultType",
  "resultSignature",
  "durationMs",
  "callerIpAddress",
  "correlationId",
  "identity",
  "level",
  "location",
  "properties",
  // Found in records that mix the two conventions; read as the export reader's fallbacks.
  "eventTimestamp",
];
/** reference kql/AzureActivity.schema.json, in its order. */
const TABLE_KEYS = [
  "OperationName",
  "OperationNameValue",
  "Level",
  "ActivityStatus",
  "ActivityStatusValue",
  "ResourceGroup",
  "SubscriptionId",
  "CorrelationId",
  "Caller",
  "CallerIpAddress",
  "Category",
  "CategoryValue",
  "HTTPRequest",
  "Properties",
  "EventSubmissionTimestamp",
  "Authorization",
  "ResourceId",
  "OperationId",
  "ResourceProvider",
  "ResourceProviderValue",
  "Resource",
  "EventDataId",
  "TenantId",
  "TimeGenerated",
  "SourceSystem",
  "Authorization_d",
  "Claims",
  "Claims_d",
  "Properties_d",
  "Hierarchy",
  "Type",
  "_ResourceId",
];

const PAIR = ["value", "localizedValue"];
const AUTHORIZATION = ["action", "scope", "role", "evidence"];
const HTTP = ["clientRequestId", "clientIpAddress", "method", "uri"];
const EVIDENCE = [
  "role",
  "roleAssignmentScope",
  "roleAssignmentId",
  "roleDefinitionId",
  "principalId",
  "principalType",
];

/** Members whose own members are renamed too, and whether they may be JSON text. */
const NESTED: Record<string, { keys: readonly string[]; json: boolean }> = {
  operationName: { keys: PAIR, json: false },
  category: { keys: PAIR, json: false },
  status: { keys: PAIR, json: false },
  subStatus: { keys: PAIR, json: false },
  eventName: { keys: PAIR, json: false },
  resourceProviderName: { keys: PAIR, json: false },
  resourceType: { keys: PAIR, json: false },
  identity: { keys: ["claims", "authorization"], json: true },
  authorization: { keys: AUTHORIZATION, json: true },
  Authorization: { keys: AUTHORIZATION, json: true },
  Authorization_d: { keys: AUTHORIZATION, json: true },
  evidence: { keys: EVIDENCE, json: true },
  httpRequest: { keys: HTTP, json: true },
  HTTPRequest: { keys: HTTP, json: true },
};

type Shape = "rest" | "export" | "table";

const byLower = (keys: readonly string[]) => new Map(keys.map((k) => [k.toLowerCase(), k]));
const LOWER: Record<Shape, Map<string, string>> = {
  rest: byLower(REST_KEYS),
  export: byLower(EXPORT_KEYS),
  table: byLower(TABLE_KEYS),
};
const EXACT: Record<Shape, Set<string>> = {
  rest: new Set(REST_KEYS),
  export: new Set(EXPORT_KEYS),
  table: new Set(TABLE_KEYS),
};
const NESTED_LOWER = new Map(Object.values(NESTED).flatMap((n) => n.keys.map((k) => [k.toLowerCase(), k] as const)));
const NESTED_EXACT = new Set(NESTED_LOWER.values());

/**
 * Whether every field the `shape` reader reads is spelled as Azure spells it (top level and the
 * nested objects it reads): then the strict reader is exact, and the record needs no rewriting.
 * Costs a set lookup per field; a lower-casing only for fields of no shape.
 */
export function spelledAsAzure(o: Json, shape: Shape): boolean {
  const exact = EXACT[shape];
  const lower = LOWER[shape];
  for (const k in o) {
    if (!exact.has(k) && lower.has(k.toLowerCase())) return false;
    const v = o[k];
    if (NESTED[k] && isObj(v) && !nestedSpelled(v)) return false;
  }
  return true;
}

function nestedSpelled(o: Json): boolean {
  for (const k in o) {
    if (!NESTED_EXACT.has(k) && NESTED_LOWER.has(k.toLowerCase())) return false;
    const v = o[k];
    if (NESTED[k] && isObj(v) && !nestedSpelled(v)) return false;
  }
  return true;
}

/** A copy with the shape's field names, nested objects (and JSON text of objects) included. */
function respell(o: Json, lower: Map<string, string>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    const name = lower.get(k.toLowerCase()) ?? k;
    // A field spelled exactly wins over a case variant of it.
    if (name in out && name !== k) continue;
    out[name] = nestedValue(name, v);
  }
  return out;
}

function nestedValue(name: string, v: unknown): unknown {
  const n = NESTED[name];
  if (!n) return v;
  const obj = n.json ? jsonish(v) : isObj(v) ? v : undefined;
  if (!obj) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(obj)) {
    const inner = NESTED_LOWER.get(k.toLowerCase()) ?? k;
    if (inner in out && inner !== k) continue;
    out[inner] = nestedValue(inner, x);
  }
  return out;
}

const has = (keys: Set<string>, ...names: string[]) => names.some((n) => keys.has(n));

/** Which shape's reader a record is closest to, from its field names in lower case. */
function shapeOf(o: Json, keys: Set<string>): Shape | undefined {
  if (
    has(
      keys,
      "operationnamevalue",
      "timegenerated",
      "categoryvalue",
      "activitystatusvalue",
      "_resourceid",
      "claims_d",
    ) ||
    has(keys, "properties_d", "authorization_d") ||
    (str(memberOf(o, "type"))?.toLowerCase() === "azureactivity" && keys.has("operationname"))
  )
    return "table";
  if (!keys.has("operationname")) return undefined;
  // Members only one shape has decide; `time` alone (a REST record given an export's time) last.
  if (has(keys, "identity", "resulttype", "resultsignature", "calleripaddress")) return "export";
  if (has(keys, "eventtimestamp", "eventdataid", "submissiontimestamp", "claims", "httprequest", "caller"))
    return "rest";
  if (keys.has("time")) return "export";
  return undefined;
}

function memberOf(o: Json, lowerName: string): unknown {
  for (const k in o) if (k.toLowerCase() === lowerName) return o[k];
  return undefined;
}

/** Activity Log categories (activity-log-schema.md, "Categories"). */
export const ACTIVITY_CATEGORIES = new Set([
  "administrative",
  "servicehealth",
  "resourcehealth",
  "alert",
  "autoscale",
  "recommendation",
  "security",
  "policy",
]);

/**
 * What a record that is no Activity Log event is, or undefined. Resource logs and the Entra
 * sign-in and audit logs sent by diagnostic settings share the export's common fields (`time`,
 * `resourceId`, `operationName`, `category`); their operation names are not provider operations
 * ("VaultGet", "Sign-in activity") and their categories are the log's ("AuditEvent",
 * "SignInLogs"). Metrics carry `metricName`.
 */
export function notActivityLog(o: Json): string | undefined {
  const lower = new Set(Object.keys(o).map((k) => k.toLowerCase()));
  if (lower.has("metricname") && (lower.has("time") || lower.has("timegrain")))
    return `is a metric record (metricName ${quote(memberOf(o, "metricname"))}), not an Activity Log event`;
  if (lower.has("createddatetime") && lower.has("userprincipalname") && lower.has("appdisplayname"))
    return "is an Entra sign-in record (Microsoft Graph signIn), not an Activity Log event";
  if (!lower.has("time") || !lower.has("category")) return undefined;
  const category = memberOf(o, "category");
  const cat = str(isObj(category) ? category.value : category);
  const op = str(memberOf(o, "operationname"));
  // No operation name at all: an Activity Log record cut short, for the reader to explain.
  if (op === undefined) return undefined;
  if (cat && ACTIVITY_CATEGORIES.has(cat.toLowerCase())) return undefined;
  if (isProviderOperation(op)) return undefined;
  return `is a resource or sign-in log record (category ${quote(cat ?? category)}, operationName ${quote(op)}), not an Activity Log event`;
}

/**
 * An Activity Log record the strict readers did not take: read after renaming its fields, or why
 * not. Undefined: nothing in it says Activity Log.
 */
export function tolerantActivity(o: Json, origin: Omit<Origin, "shape">): ActivityRead | undefined {
  const keys = new Set(Object.keys(o).map((k) => k.toLowerCase()));
  const shape = shapeOf(o, keys);
  if (!shape) {
    if (has(keys, "eventtimestamp", "eventdataid", "resulttype", "correlationid") && !keys.has("operationname"))
      return {
        error: `has no operation name: looked for operationName, OperationNameValue (any case); found fields ${[...Object.keys(o)].slice(0, 12).join(", ")}`,
      };
    return undefined;
  }
  const respelled = respell(o, LOWER[shape]);
  const at = { ...origin, shape: `activity-${shape}` };
  if (shape === "rest") return readRest(respelled, at, o);
  if (shape === "export") return readExport(respelled, at, o);
  return readTable(respelled, at, o);
}
