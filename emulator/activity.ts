/**
 * Activity Log: the snapshot's two shapes made into one list of REST EventData per subscription,
 * the `$filter` / `$select` of `GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values`,
 * newest first.
 *
 * REST shape: azure-rest-api-specs …/Microsoft.Insights/stable/2015-04-01/examples/GetActivityLogsFiltered.json
 * (copied under /work/shared/reference/azure-rest-api-specs), plus `category`, `resourceId`,
 * `resourceType`, `tenantId` as the demo's REST pages carry them.
 *
 * Export → REST: the mapping table "Schema from storage account and event hubs" of
 * MicrosoftDocs/azure-monitor-docs articles/azure-monitor/platform/activity-log-schema.md
 * (/work/shared/reference/activity-log/articles/…EXCERPT…md), read right to left:
 *   time → eventTimestamp; resourceId → resourceId (subscriptionId, resourceType, resourceGroupName
 *   inferred from it); operationName → operationName.value; resultType → status.value;
 *   resultSignature → subStatus.value; resultDescription → description; callerIpAddress →
 *   httpRequest.clientIpAddress; correlationId → correlationId; identity → claims and
 *   authorization; Level → level; properties.eventCategory → category; properties.eventName →
 *   eventName; properties.operationId → operationId; the rest of properties → properties.
 * Where the export has no counterpart (eventDataId, submissionTimestamp, httpRequest.method /
 * clientRequestId, localized values) see docs/emulator.md.
 */
import { createHash } from "node:crypto";
import type { TimeShift } from "./timeshift.ts";
import { guidFrom, isObject, type Json, type JsonObject, lc } from "./util.ts";

const CLAIM_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const CLAIM_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
const CLAIM_TENANT = "http://schemas.microsoft.com/identity/claims/tenantid";

/** Export resultType → REST status.value (the values the export writes, as the demo README lists them). */
const RESULT_TYPE: Record<string, string> = {
  start: "Started",
  accept: "Accepted",
  success: "Succeeded",
  failure: "Failed",
};

/** Export level → REST level (EventLevel enum of the 2015-04-01 spec: Critical, Error, Warning, Informational, Verbose). */
const LEVEL: Record<string, string> = {
  information: "Informational",
  informational: "Informational",
  error: "Error",
  warning: "Warning",
  critical: "Critical",
  verbose: "Verbose",
};

const EVENT_NAME_LOCALIZED: Record<string, string> = {
  BeginRequest: "Begin request",
  EndRequest: "End request",
};

function str(v: Json | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export interface ParsedId {
  subscriptionId?: string;
  resourceGroup?: string;
  /** Namespace of the last `/providers/` segment. */
  provider?: string;
  /** `Namespace/type[/subtype…]` of the last `/providers/` segment. */
  type?: string;
}

export function parseResourceId(id: string): ParsedId {
  const segs = id.split("/").filter(Boolean);
  const out: ParsedId = {};
  for (let i = 0; i + 1 < segs.length; i++) {
    const s = lc(segs[i]);
    if (s === "subscriptions" && out.subscriptionId === undefined) out.subscriptionId = segs[i + 1];
    if (s === "resourcegroups" && out.resourceGroup === undefined) out.resourceGroup = segs[i + 1];
  }
  let last = -1;
  for (let i = 0; i < segs.length; i++) if (lc(segs[i]) === "providers") last = i;
  if (last >= 0 && last + 1 < segs.length) {
    const ns = segs[last + 1] as string;
    const types: string[] = [];
    for (let i = last + 2; i < segs.length; i += 2) types.push(segs[i] as string);
    out.provider = ns;
    out.type = [ns, ...types].join("/");
  } else if (out.resourceGroup !== undefined && segs.length === 4) {
    out.provider = "Microsoft.Resources";
    out.type = "Microsoft.Resources/resourceGroups";
  }
  return out;
}

/** `{value, localizedValue}` as the REST shape writes localizable strings. */
function loc(value: string, localizedValue = value): JsonObject {
  return { value, localizedValue };
}

/** subStatus localized values as the demo's REST pages write them (value → localizedValue). */
export type SubStatusNames = Map<string, string>;

export function subStatusNamesFrom(events: readonly JsonObject[]): SubStatusNames {
  const m: SubStatusNames = new Map();
  for (const e of events) {
    const s = e.subStatus;
    if (isObject(s) && typeof s.value === "string" && typeof s.localizedValue === "string")
      m.set(s.value, s.localizedValue);
  }
  return m;
}

/** One diagnostic-export record (a PT1H.json line) as REST EventData. */
export function exportToRest(rec: JsonObject, line: string, names: SubStatusNames): JsonObject {
  const identity = isObject(rec.identity) ? rec.identity : {};
  const claims = isObject(identity.claims) ? identity.claims : {};
  const authz = isObject(identity.authorization) ? identity.authorization : {};
  const props = isObject(rec.properties) ? { ...rec.properties } : {};
  const eventName = str(props.eventName) ?? "";
  const operationId = str(props.operationId);
  const category = str(props.eventCategory) ?? "Administrative";
  delete props.eventName;
  delete props.operationId;
  // The export upper-cases resourceId; properties.entity keeps Azure's own spelling of the same id.
  const exportId = str(rec.resourceId) ?? "";
  const entity = str(props.entity);
  const resourceId = entity && lc(entity) === lc(exportId) ? entity : exportId;
  const parsed = parseResourceId(resourceId);
  const time = str(rec.time) ?? "";
  const eventDataId = guidFrom(createHash("sha256").update(line).digest("hex"));
  const resultSig = str(rec.resultSignature) ?? "";
  const dot = resultSig.indexOf(".");
  const subStatus = dot >= 0 ? resultSig.slice(dot + 1) : resultSig;
  const status = RESULT_TYPE[lc(str(rec.resultType))] ?? str(rec.resultType) ?? "";
  const operationName = str(rec.operationName) ?? "";
  const message = str(props.message);
  const opName = message && lc(message) === lc(operationName) ? message : operationName;
  const authorization: JsonObject = {};
  if (typeof authz.action === "string") authorization.action = authz.action;
  if (typeof authz.scope === "string") authorization.scope = authz.scope;
  const caller = str(claims[CLAIM_UPN]) ?? str(claims[CLAIM_OID]) ?? "";
  const http: JsonObject = {};
  if (typeof rec.callerIpAddress === "string") http.clientIpAddress = rec.callerIpAddress;
  const out: JsonObject = {
    authorization,
    caller,
    claims,
    correlationId: str(rec.correlationId) ?? "",
    description: str(rec.resultDescription) ?? "",
    eventDataId,
    eventName: loc(eventName, EVENT_NAME_LOCALIZED[eventName] ?? eventName),
    category: loc(category),
    httpRequest: http,
    id: `${resourceId}/events/${eventDataId}/ticks/${isoToTicks(time)}`,
    level: LEVEL[lc(str(rec.level))] ?? str(rec.level) ?? "",
    resourceGroupName: parsed.resourceGroup ?? "",
    resourceProviderName: loc(parsed.provider ?? ""),
    resourceId,
    resourceType: loc(parsed.type ?? ""),
    operationId: operationId ?? "",
    // The export upper-cases operationName; properties.message carries the same name in Azure's
    // spelling. REST's localizedValue is a display name the export does not carry: the name stands in.
    operationName: loc(opName),
    properties: props,
    status: loc(status),
    subStatus: loc(subStatus, names.get(subStatus) ?? subStatus),
    eventTimestamp: time,
    subscriptionId: parsed.subscriptionId ?? "",
    tenantId: str(claims[CLAIM_TENANT]) ?? "",
  };
  return out;
}

const TICKS_AT_EPOCH = 621_355_968_000_000_000n;

export function isoToTicks(iso: string): string {
  const m = /^(.*?:\d{2})(\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/.exec(iso);
  if (!m) return "0";
  const whole = Date.parse(`${m[1]}${m[4] ?? "Z"}`);
  if (Number.isNaN(whole)) return "0";
  const frac = (m[3] ?? "").padEnd(7, "0").slice(0, 7);
  return (TICKS_AT_EPOCH + BigInt(whole) * 10_000n + BigInt(frac)).toString();
}

/** Shift one REST event in place: timestamps, the ticks in its id, the token times of its claims. */
export function shiftEvent(e: JsonObject, t: TimeShift): JsonObject {
  if (t.days === 0) return e;
  const out = t.deep(e);
  if (typeof out.id === "string") out.id = out.id.replace(/\/ticks\/(\d+)$/, (_m, n: string) => `/ticks/${t.ticks(n)}`);
  if (isObject(out.claims)) {
    for (const k of ["iat", "nbf", "exp"]) {
      const v = out.claims[k];
      if (typeof v === "string") out.claims[k] = t.epochSeconds(v);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// $filter
// ---------------------------------------------------------------------------------------------

export interface ActivityFilter {
  from: number;
  to: number;
  /** field → lower-cased value that must match (eq) */
  eq: Map<string, string>;
}

/** The fields `$filter` accepts besides eventTimestamp (the 2015-04-01 spec's description of `$filter`). */
const EQ_FIELDS: Record<string, (e: JsonObject) => string | undefined> = {
  resourcegroupname: (e) => str(e.resourceGroupName),
  resourceuri: (e) => str(e.resourceId),
  resourceid: (e) => str(e.resourceId),
  resourceprovider: (e) => (isObject(e.resourceProviderName) ? str(e.resourceProviderName.value) : undefined),
  correlationid: (e) => str(e.correlationId),
  caller: (e) => str(e.caller),
  status: (e) => (isObject(e.status) ? str(e.status.value) : undefined),
  substatus: (e) => (isObject(e.subStatus) ? str(e.subStatus.value) : undefined),
  levels: (e) => str(e.level),
  operationid: (e) => str(e.operationId),
};

export class FilterError extends Error {}

export function parseActivityFilter(filter: string | null, now: number): ActivityFilter {
  if (!filter)
    throw new FilterError(
      "The $filter query parameter is required: eventTimestamp ge '<time>' [and eventTimestamp le '<time>'] …",
    );
  const clauses = filter.split(/\s+and\s+/i);
  let from: number | undefined;
  let to: number | undefined;
  const eq = new Map<string, string>();
  for (const raw of clauses) {
    const c = raw.trim().replace(/^\((.*)\)$/, "$1");
    const m = /^([A-Za-z]+)\s+(ge|le|eq)\s+'([^']*)'$/i.exec(c);
    if (!m) {
      if (/^eventChannels\s+eq\s+/i.test(c)) continue;
      throw new FilterError(`Unsupported $filter clause: ${c}`);
    }
    const field = lc(m[1]);
    const op = lc(m[2]);
    const val = m[3] as string;
    if (field === "eventtimestamp") {
      const t = Date.parse(val);
      if (Number.isNaN(t)) throw new FilterError(`Invalid eventTimestamp value: ${val}`);
      if (op === "ge") from = t;
      else if (op === "le") to = t;
      else throw new FilterError("eventTimestamp takes ge and le");
      continue;
    }
    if (op !== "eq" || !(field in EQ_FIELDS)) throw new FilterError(`Unsupported $filter clause: ${c}`);
    eq.set(field, lc(val));
  }
  if (from === undefined) throw new FilterError("The $filter must contain eventTimestamp ge '<time>'.");
  return { from, to: to ?? now, eq };
}

export function matchEvent(e: JsonObject, f: ActivityFilter): boolean {
  const t = Date.parse(str(e.eventTimestamp) ?? "");
  if (!(t >= f.from && t <= f.to)) return false;
  for (const [field, want] of f.eq) {
    const get = EQ_FIELDS[field];
    if (!get || lc(get(e)) !== want) return false;
  }
  return true;
}

/** `$select=a,b,c`: keep those top-level properties (case-insensitive), as the service does. */
export function selectFields(e: JsonObject, select: string | null): JsonObject {
  if (!select) return e;
  const want = new Set(
    select
      .split(",")
      .map((s) => lc(s.trim()))
      .filter(Boolean),
  );
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(e)) if (want.has(lc(k))) out[k] = v;
  return out;
}
