/**
 * The ARM front: routing, paging with `nextLink`, and the tenant-level routes (subscriptions,
 * tenants, management groups). Provider routes are in activity-route.ts, rbac.ts, web.ts,
 * compute.ts and graph.ts. Every route accepts any api-version.
 */
import type { IssuedToken } from "./auth.ts";
import type { Snapshot } from "./snapshot.ts";
import { armError, type Json, type JsonObject, json, lc, type Reply } from "./util.ts";

export interface EmulatorEnv {
  armEndpoint: string;
  tenantId: string;
  clientId: string;
  /** Registry name (lower-cased) → the login server it is served at (`localhost:PORT`). */
  loginServers: Map<string, string>;
  /** Page size of the Activity Log list. */
  activityPageSize: number;
  /** Page size of other ARM lists. */
  pageSize: number;
  /** Log Analytics: rows per answer before it is cut and marked partial (default 500,000, the service's cap). */
  logsRowLimit?: number;
  now: () => number;
}

export interface Ctx {
  method: string;
  /** Normalised path (no duplicate slashes, no trailing slash). */
  path: string;
  url: URL;
  body: Buffer;
  snap: Snapshot;
  env: EmulatorEnv;
  token: IssuedToken | undefined;
}

export type Handler = (ctx: Ctx, m: RegExpExecArray) => Reply;
export interface Route {
  method: "GET" | "POST";
  re: RegExp;
  handler: Handler;
}

export const SUB = "/subscriptions/([^/]+)";
export const RG = `${SUB}/resourceGroups/([^/]+)`;

/** A route regex over the normalised path; case-insensitive like ARM. */
export function route(method: "GET" | "POST", pattern: string, handler: Handler): Route {
  return { method, re: new RegExp(`^${pattern}$`, "i"), handler };
}

/** One page of `items` with `nextLink` (offset in `$skiptoken`), as ARM list operations answer. */
export function page(ctx: Ctx, items: readonly Json[], size = ctx.env.pageSize): Reply {
  const skipRaw = ctx.url.searchParams.get("$skiptoken") ?? ctx.url.searchParams.get("$skipToken");
  const skip = skipRaw && /^\d+$/.test(skipRaw) ? Number(skipRaw) : 0;
  const value = items.slice(skip, skip + size);
  const body: JsonObject = { value };
  if (skip + size < items.length) {
    const next = new URL(`${ctx.env.armEndpoint}${ctx.url.pathname}`);
    for (const [k, v] of ctx.url.searchParams) if (lc(k) !== "$skiptoken") next.searchParams.append(k, v);
    next.searchParams.set("$skiptoken", String(skip + size));
    body.nextLink = next.toString();
  }
  return json(200, body);
}

export function findSub(ctx: Ctx, id: string) {
  return ctx.snap.subscriptions.find((s) => lc(s.subscriptionId) === lc(id));
}

export function notFound(type: string, name: string, rg: string | undefined): Reply {
  return armError(
    404,
    "ResourceNotFound",
    rg
      ? `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
      : `The Resource '${type}/${name}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function rgExists(ctx: Ctx, sub: string, rg: string): boolean {
  return ctx.snap.resourceGroups.get(lc(sub))?.has(lc(rg)) ?? false;
}

export function rgNotFound(rg: string): Reply {
  return armError(404, "ResourceGroupNotFound", `Resource group '${rg}' could not be found.`);
}

/** Items whose id is under the subscription (and resource group, when given). */
export function under<T extends JsonObject>(items: readonly T[], sub: string, rg?: string): T[] {
  const prefix = lc(rg ? `/subscriptions/${sub}/resourceGroups/${rg}/` : `/subscriptions/${sub}/`);
  return items.filter((x) => lc(String(x.id ?? "")).startsWith(prefix));
}

// ---------------------------------------------------------------------------------------------
// Subscriptions, tenants, management groups
// ---------------------------------------------------------------------------------------------

/** Shape: Azure/azure-rest-api-specs specification/subscription/resource-manager/Microsoft.Subscription/stable/2016-06-01/examples/listSubscriptions.json (+ tenantId of the 2022-12-01 Subscription definition). */
function subscriptionBody(ctx: Ctx, s: { subscriptionId: string; displayName: string }): JsonObject {
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    authorizationSource: "RoleBased",
    subscriptionId: s.subscriptionId,
    tenantId: ctx.snap.tenantId,
    displayName: s.displayName,
    state: "Enabled",
  };
}

const MG = "/providers/Microsoft\\.Management/managementGroups/([^/]+)";

function mgIds(ctx: Ctx): { id: string; displayName: string; parent: string | undefined }[] {
  const root = ctx.snap.tenantId;
  const out = [{ id: root, displayName: "Tenant Root Group", parent: undefined as string | undefined }];
  let parent = root;
  for (const mg of ctx.snap.managementGroups) {
    out.push({ id: mg, displayName: mg, parent });
    parent = mg;
  }
  return out;
}

function mgRef(id: string): string {
  return `/providers/Microsoft.Management/managementGroups/${id}`;
}

/** Shape: …/Microsoft.Management/stable/2023-04-01/examples/GetManagementGroup.json (trimmed to id, type, name, properties{tenantId, displayName, details.parent}). */
function mgBody(ctx: Ctx, g: { id: string; displayName: string; parent: string | undefined }): JsonObject {
  const details: JsonObject = {};
  if (g.parent) details.parent = { id: mgRef(g.parent), name: g.parent };
  return {
    id: mgRef(g.id),
    type: "Microsoft.Management/managementGroups",
    name: g.id,
    properties: { tenantId: ctx.snap.tenantId, displayName: g.displayName, details },
  };
}

export const tenantRoutes: Route[] = [
  route("GET", "/subscriptions", (ctx) =>
    page(
      ctx,
      ctx.snap.subscriptions.map((s) => subscriptionBody(ctx, s)),
    ),
  ),
  route("GET", SUB, (ctx, m) => {
    const s = findSub(ctx, m[1] as string);
    return s ? json(200, subscriptionBody(ctx, s)) : subscriptionNotFound(m[1] as string);
  }),
  // Shape: specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/examples/GetTenants.json
  route("GET", "/tenants", (ctx) =>
    page(ctx, [
      {
        id: `/tenants/${ctx.snap.tenantId}`,
        tenantId: ctx.snap.tenantId,
        tenantCategory: "Home",
        displayName: ctx.snap.name,
        tenantType: "AAD",
      },
    ]),
  ),
  route("GET", "/providers/Microsoft\\.Management/managementGroups", (ctx) =>
    page(
      ctx,
      mgIds(ctx).map((g) => mgBody(ctx, g)),
    ),
  ),
  route("GET", MG, (ctx, m) => {
    const g = mgIds(ctx).find((x) => lc(x.id) === lc(m[1]));
    if (!g) return mgNotFound(m[1] as string);
    return json(200, mgBody(ctx, g));
  }),
  // Shape: specification/managementgroups/resource-manager/Microsoft.Management/stable/2023-04-01/examples/GetDescendants.json
  route("GET", `${MG}/descendants`, (ctx, m) => {
    const all = mgIds(ctx);
    const idx = all.findIndex((x) => lc(x.id) === lc(m[1]));
    if (idx < 0) return mgNotFound(m[1] as string);
    const items: Json[] = [];
    for (const g of all.slice(idx + 1)) {
      items.push({
        id: mgRef(g.id),
        type: "Microsoft.Management/managementGroups",
        name: g.id,
        properties: { displayName: g.displayName, parent: { id: mgRef(g.parent as string) } },
      });
    }
    const leaf = all[all.length - 1] as { id: string };
    for (const s of ctx.snap.subscriptions) {
      items.push({
        id: `/subscriptions/${s.subscriptionId}`,
        type: "Microsoft.Management/managementGroups/subscriptions",
        name: s.subscriptionId,
        properties: { displayName: s.displayName, parent: { id: mgRef(leaf.id) } },
      });
    }
    return page(ctx, items);
  }),
];

export function subscriptionNotFound(id: string): Reply {
  return armError(404, "SubscriptionNotFound", `The subscription '${id}' could not be found.`);
}

function mgNotFound(id: string): Reply {
  return armError(
    404,
    "NotFound",
    `'/providers/Microsoft.Management/managementGroups/${id}' not found. Management group does not exist or you do not have access to it.`,
  );
}
