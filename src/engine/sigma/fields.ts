/**
 * Field resolution: how a Sigma field name reaches a value in a record. Each logsource has an
 * alias table (Sigma/SigmaHQ and AzureActivity column names → our record's paths) and a few
 * computed fields; anything else is a dotted path into the normalised record, with a
 * case-insensitive fallback per segment. Documented in docs/rules.md.
 */
import type { AuditRecord, ContainerImage, RecordKind } from "../../model/records.js";
import { requestBody } from "../../sources/normalize/activity.js";
import type { RoleCatalog } from "../grants.js";

export interface Logsource {
  product?: string;
  service?: string;
  category?: string;
}

/** `product/service` → record kind. Only `product: azure` is ours. */
export const SERVICES: Record<string, RecordKind> = {
  activitylogs: "activity",
  roleassignments: "roleAssignment",
  roledefinitions: "roleDefinition",
  functionapps: "functionApp",
  images: "containerImage",
  resources: "resource",
  payloads: "payload",
  grants: "grant",
};

/** Scan-wide lookups that computed fields may use. */
export interface FieldContext {
  roles?: RoleCatalog;
  /** Where an image was imported from; known only once the whole Activity Log is read. */
  importedFrom?: (img: ContainerImage) => string | undefined;
}

/** Every name an image goes by: registry/repo:tag for each tag, and registry/repo@digest. */
function imageReferences(r: ContainerImage): string[] {
  const base = `${r.registry}/${r.repository}`.toLowerCase();
  const refs = r.tags.map((t) => `${base}:${t.toLowerCase()}`);
  if (r.digest) refs.push(`${base}@${r.digest.toLowerCase()}`);
  return refs;
}

export function kindForLogsource(ls: Logsource): RecordKind | undefined {
  if ((ls.product ?? "").toLowerCase() !== "azure") return undefined;
  return SERVICES[(ls.service ?? "").toLowerCase()];
}

type Getter = (r: AuditRecord, ctx: FieldContext) => unknown;

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

function ipPrefix(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (ip.includes(":")) {
    const groups = ip.toLowerCase().split(":").slice(0, 3);
    return `${groups.join(":")}::/48`;
  }
  return ip;
}

function topResource(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const m = /^(.*?\/providers\/[^/]+\/[^/]+\/[^/]+)/i.exec(id);
  return (m ? (m[1] as string) : id).toLowerCase();
}

function joinCommand(parts: readonly string[]): string {
  return parts.join(" ");
}

const VIRTUAL: Partial<Record<RecordKind, Record<string, Getter>>> = {
  activity: {
    calleripprefix: (r) => (r.kind === "activity" ? ipPrefix(r.callerIpAddress) : undefined),
    // The top-level resource an operation touched: …/providers/Microsoft.Web/sites/app for
    // …/sites/app/host/default, so a site and its keys group together.
    topresourceid: (r) => (r.kind === "activity" ? topResource(r.resourceId) : undefined),
    "grant.principalid": (r) => grantedRole(r).principalId,
    "grant.roledefinitionid": (r) => grantedRole(r).roleDefinitionId,
    "grant.rolename": (r, ctx) => {
      const id = grantedRole(r).roleDefinitionId;
      return id ? ctx.roles?.get(id)?.roleName : undefined;
    },
    "grant.canexecute": (r, ctx) => {
      const id = grantedRole(r).roleDefinitionId;
      return id && ctx.roles ? ctx.roles.canExecute(id) : undefined;
    },
    // SigmaHQ rules occasionally read properties.message; the Activity Log puts the operation there.
    "properties.message": (r) =>
      r.kind === "activity" ? ((r.properties.message as string | undefined) ?? r.operationName) : undefined,
  },
  containerImage: {
    references: (r) => (r.kind === "containerImage" ? imageReferences(r) : undefined),
    importedfrom: (r, ctx) => (r.kind === "containerImage" ? ctx.importedFrom?.(r) : undefined),
    // References of images that came in through a registry import (empty otherwise).
    importedreferences: (r, ctx) =>
      r.kind === "containerImage" && ctx.importedFrom?.(r) !== undefined ? imageReferences(r) : undefined,
    entrypoint: (r) => (r.kind === "containerImage" ? r.config?.entrypoint : undefined),
    cmd: (r) => (r.kind === "containerImage" ? r.config?.cmd : undefined),
    env: (r) => (r.kind === "containerImage" ? r.config?.env : undefined),
    history: (r) => (r.kind === "containerImage" ? r.config?.history : undefined),
    labels: (r) => (r.kind === "containerImage" ? r.config?.labels : undefined),
    commandline: (r) =>
      r.kind === "containerImage" && r.config ? joinCommand([...r.config.entrypoint, ...r.config.cmd]) : undefined,
  },
};

export interface CompiledField {
  name: string;
  get: Getter;
}

const compiled = new Map<string, CompiledField>();

/** Resolves a field name once per record kind; records then only run the getter. */
export function compileField(kind: RecordKind, name: string): CompiledField {
  const key = `${kind}\u001f${name}`;
  let f = compiled.get(key);
  if (!f) {
    f = buildField(kind, name);
    compiled.set(key, f);
  }
  return f;
}

function buildField(kind: RecordKind, name: string): CompiledField {
  const lower = name.toLowerCase();
  const virtual = VIRTUAL[kind]?.[lower];
  if (virtual) return { name, get: virtual };
  let path = name;
  if (kind === "activity") {
    const head = lower.split(".")[0] as string;
    const alias = ACTIVITY_ALIASES[head];
    if (alias) path = alias + name.slice(head.length);
  }
  const segments = path.split(".");
  return { name, get: (r) => walk(r, segments) };
}

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

/** Flattens a resolved value into scalar leaves for matching. */
export function leaves(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) leaves(x, out);
  else if (v !== undefined) out.push(v);
  return out;
}
