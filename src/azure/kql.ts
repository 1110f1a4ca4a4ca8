/**
 * The KQL side of the Azure pipeline (as src/azure/pipeline.ts is the matcher's): Activity Log
 * rules → the AzureActivity table of Log Analytics / Microsoft Sentinel. A field-mapping pipeline
 * takes Sigma fields (as rules write them, through the same aliases as the matcher:
 * fields.ts canonicalField) to AzureActivity columns, and the schema below says what each column or
 * computed value is in KQL. Columns are only those of the AzureActivity reference
 * (MicrosoftDocs/azure-reference-other azure-monitor-ref/tables/azureactivity.md; copied to
 * test/fixtures/reference/kql/AzureActivity.columns.md, which test/kql/schema.test.ts compares with
 * AZURE_ACTIVITY_COLUMNS). How a table row becomes our record is normalize/activity.ts `fromTable`;
 * every mapping here is that function read backwards.
 */
import { LEAN_EXTEND } from "../collectors/workspace/kql.js";
import { type KqlField, type KqlSchema, KqlUnsupported } from "../kql/backend.js";
import { kqlString } from "../kql/literals.js";
import type { Logsource } from "../sigma/ast.js";
import { fieldMapping, logsourceTarget, ProcessingPipeline, placeholders } from "../sigma/pipeline.js";
import { PLACEHOLDER_LISTS } from "./catalog/execution-operations.js";
import { EXTENSION_WRITES } from "./enrich/extensions.js";
import { canonicalField } from "./fields.js";
import { RESULT_TYPE_STATUS } from "./normalize/activity.js";

export const AZURE_ACTIVITY_TABLE = "AzureActivity";

/** The AzureActivity columns and their types, as Microsoft's table reference lists them. */
export const AZURE_ACTIVITY_COLUMNS: Readonly<Record<string, "string" | "dynamic" | "datetime">> = {
  ActivityStatus: "string",
  ActivityStatusValue: "string",
  ActivitySubstatus: "string",
  ActivitySubstatusValue: "string",
  Authorization: "string",
  Authorization_d: "dynamic",
  Caller: "string",
  CallerIpAddress: "string",
  Category: "string",
  CategoryValue: "string",
  Claims: "string",
  Claims_d: "dynamic",
  CorrelationId: "string",
  EventDataId: "string",
  EventSubmissionTimestamp: "datetime",
  Hierarchy: "string",
  HTTPRequest: "string",
  Level: "string",
  OperationId: "string",
  OperationName: "string",
  OperationNameValue: "string",
  Properties: "string",
  Properties_d: "dynamic",
  Resource: "string",
  ResourceGroup: "string",
  _ResourceId: "string",
  ResourceId: "string",
  ResourceProvider: "string",
  ResourceProviderValue: "string",
  SourceSystem: "string",
  SubscriptionId: "string",
  _SubscriptionId: "string",
  TenantId: "string",
  TimeGenerated: "datetime",
  Type: "string",
};

/** Columns holding JSON as text: a path into one parses it, as the matcher's walk does. */
const JSON_TEXT_COLUMNS = new Set(["HTTPRequest"]);

/**
 * Record path (lower case, head segment or whole) → AzureActivity column or computed column:
 * `fromTable` backwards. Record fields not listed here have no column.
 */
const RECORD_TO_KQL: Readonly<Record<string, string>> = {
  operationname: "OperationNameValue",
  status: "Status",
  substatus: "ActivitySubstatusValue",
  category: "CategoryValue",
  level: "Level",
  resourceid: "_ResourceId",
  subscriptionid: "SubscriptionId",
  resourcegroup: "ResourceGroup",
  resourceprovider: "ResourceProviderValue",
  caller: "Caller",
  calleripaddress: "CallerIpAddress",
  correlationid: "CorrelationId",
  eventdataid: "EventDataId",
  operationid: "OperationId",
  claims: "Claims_d",
  authorization: "Authorization_d",
  properties: "Properties_d",
  httprequest: "HTTPRequest",
  "principal.id": "PrincipalId",
  "principal.appid": "AppId",
  "principal.type": "PrincipalType",
  calleripprefix: "CallerIpPrefix",
  topresourceid: "TopResourceId",
  "extension.name": "ExtensionName",
};

/** Fields the matcher computes from more than the row: why each has no KQL form. */
const NO_KQL: Readonly<Record<string, string>> = {
  "grant.canexecute": "needs the role definitions (what a role can do), which the AzureActivity table does not hold",
  "grant.canassignroles":
    "needs the role definitions (what a role can do), which the AzureActivity table does not hold",
  "grant.rolename": "needs the role definitions, which the AzureActivity table does not hold",
  "extension.handler":
    "the installed handler may come from another record of the call or the extension's configuration, which a per-row query cannot see",
  "policy.assignmentid":
    "policy ids are read from a JSON array inside Properties_d.policies, one finding key per id (not yet rendered)",
  "policy.definitionid":
    "policy ids are read from a JSON array inside Properties_d.policies, one finding key per id (not yet rendered)",
  "grant.principalid": "not yet rendered (the request body's principal, read with case-insensitive keys)",
  "grant.roledefinitionid": "not yet rendered (the request body's role, read with case-insensitive keys)",
  "principal.name": "not yet rendered (the UPN / name claims, then the caller)",
  "properties.message": "the matcher falls back to the operation name; not yet rendered",
  importedfrom: "image imports are not Activity Log rows",
};

/** Sigma field (as rules write it) → AzureActivity vocabulary: a column, a path into one, or a computed name. */
export function kqlFieldName(field: string): string {
  const path = canonicalField("activity", field);
  const lower = path.toLowerCase();
  if (NO_KQL[lower]) return path;
  const whole = RECORD_TO_KQL[lower];
  if (whole) return whole;
  const head = lower.split(".")[0] as string;
  const col = RECORD_TO_KQL[head];
  // Only columns take a path (a computed value is a plain string).
  if (col && AZURE_ACTIVITY_COLUMNS[col] !== undefined) return col + path.slice(head.length);
  return path;
}

export function tableForLogsource(ls: Logsource): string | undefined {
  if ((ls.product ?? "").toLowerCase() !== "azure") return undefined;
  return (ls.service ?? "").toLowerCase() === "activitylogs" ? AZURE_ACTIVITY_TABLE : undefined;
}

export const AZURE_KQL_PIPELINE = new ProcessingPipeline("azure-activity-kql", [
  logsourceTarget(
    tableForLogsource,
    (ls) =>
      `logsource product '${ls.product ?? ""}' service '${ls.service ?? ""}' has no Log Analytics table here (only product: azure, service: activitylogs → AzureActivity)`,
  ),
  fieldMapping("azure-activity-columns", (field) => kqlFieldName(field)),
  placeholders(PLACEHOLDER_LISTS),
]);

/** The LEAN_EXTEND lines that compute one column (the workspace collector's own keys). */
function leanLines(name: string): string[] {
  const lines = LEAN_EXTEND.filter((l) => l.startsWith(`| extend ${name} = `));
  if (lines.length === 0) throw new Error(`LEAN_EXTEND has no ${name}`);
  return lines;
}

const OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";

/** `normStatus`: the export's result types and the table's values as one vocabulary. */
function statusLine(): string {
  const byValue = new Map<string, string[]>();
  for (const [k, v] of Object.entries(RESULT_TYPE_STATUS)) byValue.set(v, [...(byValue.get(v) ?? []), k]);
  const arms = [...byValue].map(
    ([v, ks]) => `tolower(StatusRaw) in (${ks.map(kqlString).join(", ")}), ${kqlString(v)}`,
  );
  return `| extend Status = case(${arms.join(", ")}, StatusRaw)`;
}

const COMPUTED: KqlSchema["computed"] = {
  PrincipalId: { lines: leanLines("PrincipalId"), needs: [] },
  AppId: { lines: leanLines("AppId"), needs: [] },
  CallerIpPrefix: { lines: leanLines("CallerIpPrefix"), needs: [] },
  TopResourceId: { lines: leanLines("TopResourceId"), needs: [] },
  Operation: { lines: leanLines("Operation"), needs: [] },
  StatusRaw: { lines: ["| extend StatusRaw = coalesce(ActivityStatusValue, ActivityStatus)"], needs: [] },
  Status: { lines: [statusLine()], needs: ["StatusRaw"] },
  // principalFrom: the evidence's type, else a UPN claim makes a user, else an app-only token
  // (the caller is the object id the claims name) a service principal.
  PrincipalOid: {
    lines: [
      `| extend PrincipalOid = tostring(coalesce(Claims_d[${kqlString(OID_CLAIM)}], Claims_d['oid'], Authorization_d['evidence']['principalId']))`,
    ],
    needs: [],
  },
  PrincipalType: {
    lines: [
      `| extend PrincipalType = case(isnotempty(tostring(Authorization_d['evidence']['principalType'])), tostring(Authorization_d['evidence']['principalType']), isnotempty(tostring(Claims_d[${kqlString(UPN_CLAIM)}])) or isnotempty(tostring(Claims_d['upn'])), 'User', isnotempty(AppId) and isnotempty(PrincipalOid) and Caller =~ PrincipalOid, 'ServicePrincipal', '')`,
    ],
    needs: ["AppId", "PrincipalOid"],
  },
  // extensionName: the last segment of an extension write's resource id.
  ExtensionName: {
    lines: [
      `| extend ExtensionName = iff(Operation in (${[...EXTENSION_WRITES].map(kqlString).join(", ")}), extract('(?i)/extensions/([^/]+)/?$', 1, _ResourceId), '')`,
    ],
    needs: ["Operation"],
  },
};

/**
 * A path into a dynamic column (or JSON text), as the matcher's walk reads it: each step parses a
 * string that holds JSON (Azure packs request and response bodies as text). A case-insensitive
 * comparison reads the lower-cased JSON with lower-cased keys, which is the matcher's
 * case-insensitive key lookup; a case-sensitive one reads keys as written.
 */
function pathExpr(column: string, segments: string[], cased: boolean): string {
  const text = AZURE_ACTIVITY_COLUMNS[column] === "dynamic" ? `tostring(${column})` : column;
  let e = cased ? (JSON_TEXT_COLUMNS.has(column) ? `parse_json(${column})` : column) : `parse_json(tolower(${text}))`;
  segments.forEach((seg, i) => {
    if (seg === "*") throw new KqlUnsupported(`a '*' path segment (any key) is not rendered`);
    const key = kqlString(cased ? seg : seg.toLowerCase());
    e = i === segments.length - 1 ? `tostring(${e}[${key}])` : `parse_json(tostring(${e}[${key}]))`;
  });
  return e;
}

export const AZURE_ACTIVITY_SCHEMA: KqlSchema = {
  table: AZURE_ACTIVITY_TABLE,
  computed: COMPUTED,
  field(name: string, cased: boolean): KqlField {
    const why = NO_KQL[name.toLowerCase()];
    if (why) throw new KqlUnsupported(`field ${name}: ${why}`);
    if (COMPUTED[name]) return { expr: name, needs: [name] };
    const [head, ...rest] = name.split(".");
    const type = AZURE_ACTIVITY_COLUMNS[head as string];
    if (type === undefined) throw new KqlUnsupported(`field ${name} has no AzureActivity column`);
    if (rest.length === 0) {
      if (type === "datetime") throw new KqlUnsupported(`field ${name} is a datetime; rules compare text`);
      return { expr: type === "dynamic" ? `tostring(${head})` : (head as string), needs: [] };
    }
    if (type !== "dynamic" && !JSON_TEXT_COLUMNS.has(head as string)) {
      throw new KqlUnsupported(`field ${name}: ${head} is not a dynamic or JSON column`);
    }
    return { expr: pathExpr(head as string, rest, cased), needs: [] };
  },
};
