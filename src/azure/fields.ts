/**
 * The Azure field resolver: how a Sigma field name reaches a value in one of our records. Each
 * record kind has an alias table (SigmaHQ and AzureActivity column names → our record's paths)
 * and a few computed fields; anything else is a dotted path into the normalised record, with a
 * case-insensitive fallback per segment. Documented in docs/rules.md.
 */
import { MAX_MATCH_CHARS } from "../matcher/compile.js";
import type { CompiledField, FieldResolver } from "../matcher/view.js";
import type { ActivityEvent, AuditRecord, ContainerImage, RecordKind } from "../model/records.js";
import type { RoleCatalog } from "./catalog/roles.js";
import { extensionName, ownHandler } from "./enrich/extensions.js";
import { requestBody } from "./normalize/activity.js";

/** Scan-wide lookups that computed fields may use. */
export interface FieldContext {
  roles?: RoleCatalog;
  /** Where an image was imported from; known only once the whole Activity Log is read. */
  importedFrom?: (img: ContainerImage) => string | undefined;
  /** The `publisher/type` an extension write installed, from any record or configuration read. */
  extensionHandler?: (e: ActivityEvent) => string | undefined;
}

/** Every name an image goes by: registry/repo:tag for each tag, and registry/repo@digest. */
function imageReferences(r: ContainerImage): string[] {
  const base = `${r.registry}/${r.repository}`.toLowerCase();
  const refs = r.tags.map((t) => `${base}:${t.toLowerCase()}`);
  if (r.digest) refs.push(`${base}@${r.digest.toLowerCase()}`);
  return refs;
}

type Getter = (r: AuditRecord, ctx: FieldContext) => unknown;

/** A computed field, and whether its value needs the whole input read first. */
interface Computed {
  get: Getter;
  late?: boolean;
  /** For a late field: its value is already final for this record. */
  settled?: (r: AuditRecord, ctx: FieldContext) => boolean;
}

/**
 * A grant's role fields are final as soon as the role is known: built-in roles always are, a
 * custom one once its definition has been read (and an event naming no role never changes).
 */
const roleSettled = (r: AuditRecord, ctx: FieldContext): boolean => {
  const id = grantedRole(r).roleDefinitionId;
  return !id || !!ctx.roles?.get(id);
};

/** The role a roleAssignments/write event grants, from the request body Azure logs as text. */
function grantedRole(r: AuditRecord): { roleDefinitionId?: string; principalId?: string } {
  if (r.kind !== "activity" || !r.operation.startsWith("microsoft.authorization/roleassignments/")) return {};
  const body = requestBody(r);
  const p = body?.Properties ?? body?.properties;
  if (!p || typeof p !== "object") return {};
  const pick = (k: string) => {
    const o = p as Record<string, unknown>;
    const hit = Object.keys(o).find((x) => x.toLowerCase() === k);
    const v = hit ? o[hit] : undefined;
    return typeof v === "string" ? v : undefined;
  };
  return { roleDefinitionId: pick("roledefinitionid"), principalId: pick("principalid") };
}

/** Lower-cased alias → path in our record (activity logs). */
const ACTIVITY_ALIASES: Record<string, string> = {
  operationnamevalue: "operationName",
  activitystatusvalue: "status",
  activitystatus: "status",
  activitysubstatusvalue: "subStatus",
  activitysubstatus: "subStatus",
  resulttype: "status",
  resultsignature: "subStatus",
  _resourceid: "resourceId",
  resourceprovidervalue: "resourceProvider",
  categoryvalue: "category",
  properties_d: "properties",
  claims_d: "claims",
  authorization_d: "authorization",
  identity: "principal.name",
};

export function ipPrefix(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(":")) {
    const groups = ip.toLowerCase().split(":").slice(0, 3);
    return `${groups.join(":")}::/48`;
  }
  return ip;
}

export function topResource(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const m = /^(.*?\/providers\/[^/]+\/[^/]+\/[^/]+)/i.exec(id);
  return (m ? (m[1] as string) : id).toLowerCase();
}

function joinCommand(parts: readonly string[]): string {
  return parts.join(" ");
}

/** The role a roleAssignments/write event grants, looked up in the scan's role catalogue. */
function grantedRoleInfo(r: AuditRecord, ctx: FieldContext) {
  const id = grantedRole(r).roleDefinitionId;
  return id ? ctx.roles?.get(id) : undefined;
}

/** A policy object id as one key: lower case, no trailing slash (Azure writes both forms). */
const policyKey = (id: string) => id.toLowerCase().replace(/\/+$/, "");

/**
 * The ids of one kind (`policyAssignmentId`, `policyDefinitionId`) a Policy-category effect event
 * (`Microsoft.Authorization/policies/<effect>/action`) names in `properties.policies`, which Azure
 * logs as a JSON string holding an array (activity-log-schema.md, "Sample Policy event";
 * test/fixtures/reference/activity-policy-event.json); for a write of that kind of object, its
 * resource id. Lower case without a trailing slash, so a write and the effects it has later
 * group together.
 */
function policyIds(r: ActivityEvent, key: string, write: string): string[] | undefined {
  if (r.operation === write) return r.resourceId ? [policyKey(r.resourceId)] : undefined;
  if (!r.operation.startsWith("microsoft.authorization/policies/")) return undefined;
  const prop = Object.keys(r.properties).find((k) => k.toLowerCase() === "policies");
  let list: unknown = prop ? r.properties[prop] : undefined;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch {
      return undefined;
    }
  }
  const out: string[] = [];
  for (const p of Array.isArray(list) ? list : [list]) {
    const v = p && typeof p === "object" ? (p as Record<string, unknown>)[key] : undefined;
    if (typeof v === "string" && v && !out.includes(policyKey(v))) out.push(policyKey(v));
  }
  return out.length > 0 ? out : undefined;
}

const VIRTUAL: Partial<Record<RecordKind, Record<string, Computed>>> = {
  activity: {
    calleripprefix: { get: (r) => (r.kind === "activity" ? ipPrefix(r.callerIpAddress) : undefined) },
    // The top-level resource an operation touched: …/providers/Microsoft.Web/sites/app for
    // …/sites/app/host/default, so a site and its keys group together.
    topresourceid: { get: (r) => (r.kind === "activity" ? topResource(r.resourceId) : undefined) },
    "grant.principalid": { get: (r) => grantedRole(r).principalId },
    "grant.roledefinitionid": { get: (r) => grantedRole(r).roleDefinitionId },
    // The role catalogue is complete only when every role definition has been read.
    "grant.rolename": { late: true, settled: roleSettled, get: (r, ctx) => grantedRoleInfo(r, ctx)?.roleName },
    "grant.canexecute": {
      late: true,
      settled: roleSettled,
      get: (r, ctx) => {
        const id = grantedRole(r).roleDefinitionId;
        return id && ctx.roles ? ctx.roles.canExecute(id) : undefined;
      },
    },
    "grant.canassignroles": {
      late: true,
      settled: roleSettled,
      get: (r, ctx) => {
        const id = grantedRole(r).roleDefinitionId;
        return id && ctx.roles ? ctx.roles.canAssignRoles(id) : undefined;
      },
    },
    // The handler an extension write installed (`Microsoft.Azure.Extensions/CustomScript`): its own
    // body settles it; otherwise another record of the call or the extension's configuration,
    // either of which may come later in the input.
    "extension.handler": {
      late: true,
      settled: (r) => r.kind !== "activity" || ownHandler(r) !== undefined,
      get: (r, ctx) => (r.kind === "activity" ? (ownHandler(r) ?? ctx.extensionHandler?.(r)) : undefined),
    },
    "extension.name": { get: (r) => (r.kind === "activity" ? extensionName(r) : undefined) },
    "policy.assignmentid": {
      get: (r) =>
        r.kind === "activity"
          ? policyIds(r, "policyAssignmentId", "microsoft.authorization/policyassignments/write")
          : undefined,
    },
    "policy.definitionid": {
      get: (r) =>
        r.kind === "activity"
          ? policyIds(r, "policyDefinitionId", "microsoft.authorization/policydefinitions/write")
          : undefined,
    },
    // SigmaHQ rules occasionally read properties.message; the Activity Log puts the operation there.
    "properties.message": {
      get: (r) =>
        r.kind === "activity" ? ((r.properties.message as string | undefined) ?? r.operationName) : undefined,
    },
  },
  containerImage: {
    references: { get: (r) => (r.kind === "containerImage" ? imageReferences(r) : undefined) },
    // Imports are known only once the whole Activity Log is read.
    importedfrom: { late: true, get: (r, ctx) => (r.kind === "containerImage" ? ctx.importedFrom?.(r) : undefined) },
    // References of images that came in through a registry import (empty otherwise).
    importedreferences: {
      late: true,
      get: (r, ctx) =>
        r.kind === "containerImage" && ctx.importedFrom?.(r) !== undefined ? imageReferences(r) : undefined,
    },
    entrypoint: { get: (r) => (r.kind === "containerImage" ? r.config?.entrypoint : undefined) },
    cmd: { get: (r) => (r.kind === "containerImage" ? r.config?.cmd : undefined) },
    env: { get: (r) => (r.kind === "containerImage" ? r.config?.env : undefined) },
    history: { get: (r) => (r.kind === "containerImage" ? r.config?.history : undefined) },
    labels: { get: (r) => (r.kind === "containerImage" ? r.config?.labels : undefined) },
    commandline: {
      get: (r) =>
        r.kind === "containerImage" && r.config ? joinCommand([...r.config.entrypoint, ...r.config.cmd]) : undefined,
    },
  },
};

/**
 * A field name as the matcher should read it: SigmaHQ and AzureActivity aliases (the head
 * segment only: `Properties_d.x` → `properties.x`) mapped to our record's paths. The Azure
 * pipeline applies it to rules; correlation group-by fields go through it at resolution.
 */
export function canonicalField(kind: string, name: string): string {
  if (kind !== "activity") return name;
  const head = name.split(".")[0] as string;
  const alias = ACTIVITY_ALIASES[head.toLowerCase()];
  return alias ? alias + name.slice(head.length) : name;
}

const compiled = new Map<string, CompiledField>();

function buildField(kind: RecordKind, name: string): CompiledField {
  const path = canonicalField(kind, name);
  const virtual = VIRTUAL[kind]?.[path.toLowerCase()] ?? VIRTUAL[kind]?.[name.toLowerCase()];
  if (virtual) {
    const f: CompiledField = { name, get: virtual.get as CompiledField["get"] };
    if (virtual.late) f.late = true;
    if (virtual.settled) f.settled = virtual.settled as CompiledField["settled"];
    return f;
  }
  const segments = path.split(".");
  return { name, get: (r) => walk(r, segments) };
}

/** Every string leaf of a record (less raw/origin), for keyword selections. */
function allText(record: object): string[] {
  const out: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 12) return;
    if (typeof v === "string") out.push(v.length > MAX_MATCH_CHARS ? v.slice(0, MAX_MATCH_CHARS) : v);
    else if (Array.isArray(v)) for (const x of v) visit(x, depth + 1);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) if (k !== "raw" && k !== "origin") visit(x, depth + 1);
    }
  };
  visit(record, 0);
  return out;
}

/** Resolves a field name once per record kind; records then only run the getter. */
export const AZURE_FIELDS: FieldResolver = {
  field(kind, name) {
    const key = `${kind}\u001f${name}`;
    let f = compiled.get(key);
    if (!f) {
      f = buildField(kind as RecordKind, name);
      compiled.set(key, f);
    }
    return f;
  },
  text: allText,
};

/** Walks a dotted path; arrays fan out. Keys containing dots (claim URIs) are tried whole. */
function walk(root: unknown, segments: string[]): unknown {
  const out: unknown[] = [];
  step(root, segments, 0, out);
  return out.length === 0 ? undefined : out.length === 1 ? out[0] : out;
}

const MISSING = Symbol("missing");

function lookup(o: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(o, key)) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return MISSING;
}

function step(node: unknown, segments: string[], i: number, out: unknown[]): void {
  if (i === segments.length) {
    out.push(node);
    return;
  }
  if (Array.isArray(node)) {
    for (const el of node) step(el, segments, i, out);
    return;
  }
  if (typeof node === "string") {
    // Azure packs request and response bodies as JSON text (properties.requestbody,
    // properties.responseBody); a path that continues into one parses it.
    const parsed = parseEmbeddedJson(node);
    if (parsed !== undefined) step(parsed, segments, i, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const o = node as Record<string, unknown>;
  if (segments[i] === "*") {
    // Any key: Logic App actions, template resources and the like are keyed by author-chosen names.
    for (const v of Object.values(o)) step(v, segments, i + 1, out);
    return;
  }
  const child = lookup(o, segments[i] as string);
  if (child !== MISSING) {
    step(child, segments, i + 1, out);
    return;
  }
  if (i < segments.length - 1) {
    const whole = lookup(o, segments.slice(i).join("."));
    if (whole !== MISSING) out.push(whole);
  }
}

/** Embedded JSON larger than this is not parsed for matching. */
const MAX_EMBEDDED_JSON = 1024 * 1024;

function parseEmbeddedJson(s: string): object | undefined {
  const t = s.trimStart();
  if (t.length > MAX_EMBEDDED_JSON || (t[0] !== "{" && t[0] !== "[")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === "object" ? v : undefined;
  } catch {
    return undefined;
  }
}
