/**
 * Microsoft.Authorization: role assignments and role definitions at any scope the API takes
 * (`/`, a management group, a subscription, a resource group, a resource).
 *
 * Shapes: azure-rest-api-specs …/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_ListForScope.json
 * and GetRoleDefinitionById.json (copies under /work/shared/reference/azure-rest-api-specs); the
 * demo's files are already in that shape (demo/README.md).
 *
 * Scope semantics (RoleAssignments_ListForScope): without a filter, assignments at, above and
 * below the scope; `atScope()`: at or above; `principalId eq '…'` / `assignedTo('…')`: that
 * principal (group membership is not modelled).
 */
import { type Ctx, page, type Route, route } from "./arm.ts";
import { armError, isObject, type JsonObject, json, lc, type Reply } from "./util.ts";

const MG_PREFIX = "/providers/microsoft.management/managementgroups/";

/** The management-group chain, root first: [tenantId, …snapshot groups]. */
function chain(ctx: Ctx): string[] {
  return [lc(ctx.snap.tenantId), ...ctx.snap.managementGroups.map(lc)];
}

/** Does `outer` contain `inner` (or equal it)? Scopes are lower-cased paths; "" is the root `/`. */
function contains(ctx: Ctx, outerRaw: string, innerRaw: string): boolean {
  const outer = lc(outerRaw).replace(/\/$/, "");
  const inner = lc(innerRaw).replace(/\/$/, "");
  if (outer === "") return true;
  if (outer === inner) return true;
  const ch = chain(ctx);
  if (outer.startsWith(MG_PREFIX)) {
    const i = ch.indexOf(outer.slice(MG_PREFIX.length));
    if (i < 0) return false;
    if (inner.startsWith(MG_PREFIX)) return ch.indexOf(inner.slice(MG_PREFIX.length)) > i;
    return inner.startsWith("/subscriptions/");
  }
  return inner.startsWith(`${outer}/`);
}

function allAssignments(ctx: Ctx): JsonObject[] {
  return [...ctx.snap.roleAssignments.values()].flat();
}

function scopeOf(a: JsonObject): string {
  return isObject(a.properties) ? String(a.properties.scope ?? "") : "";
}

function listAssignments(ctx: Ctx, scope: string): Reply {
  const filter = ctx.url.searchParams.get("$filter") ?? "";
  let items = allAssignments(ctx);
  const atScope = /atScope\(\)/i.test(filter);
  items = items.filter((a) => {
    const s = scopeOf(a);
    return atScope ? contains(ctx, s, scope) : contains(ctx, s, scope) || contains(ctx, scope, s);
  });
  const p = /principalId\s+eq\s+'([^']+)'/i.exec(filter) ?? /assignedTo\('([^']+)'\)/i.exec(filter);
  if (p) items = items.filter((a) => isObject(a.properties) && lc(String(a.properties.principalId)) === lc(p[1]));
  const bad = filter.replace(/atScope\(\)|principalId\s+eq\s+'[^']*'|assignedTo\('[^']*'\)|\s+and\s+/gi, "").trim();
  if (bad) return armError(400, "InvalidFilter", `The filter '${filter}' is not supported.`);
  return page(ctx, items);
}

function definitionsFor(ctx: Ctx, scope: string): JsonObject[] {
  const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
  return ctx.snap.roleDefinitions.map((d) => {
    const name = String(d.name ?? "");
    const id = sub
      ? `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${name}`
      : `/providers/Microsoft.Authorization/roleDefinitions/${name}`;
    return { ...d, id };
  });
}

function listDefinitions(ctx: Ctx, scope: string): Reply {
  const filter = ctx.url.searchParams.get("$filter") ?? "";
  let items = definitionsFor(ctx, scope);
  const rn = /roleName\s+eq\s+'([^']+)'/i.exec(filter);
  if (rn) items = items.filter((d) => isObject(d.properties) && lc(String(d.properties.roleName)) === lc(rn[1]));
  const ty = /type\s+eq\s+'([^']+)'/i.exec(filter);
  if (ty) items = items.filter((d) => isObject(d.properties) && lc(String(d.properties.type)) === lc(ty[1]));
  return page(ctx, items);
}

const RA = "/providers/Microsoft\\.Authorization/roleAssignments";
const RD = "/providers/Microsoft\\.Authorization/roleDefinitions";

export const rbacRoutes: Route[] = [
  route("GET", `(.*)${RA}`, (ctx, m) => listAssignments(ctx, m[1] ?? "")),
  route("GET", `(.*)${RA}/([^/]+)`, (ctx, m) => {
    const a = allAssignments(ctx).find((x) => lc(String(x.name)) === lc(m[2]));
    if (!a || !contains(ctx, m[1] ?? "", scopeOf(a)))
      return armError(404, "RoleAssignmentNotFound", "The role assignment does not exist.");
    return json(200, a);
  }),
  route("GET", `(.*)${RD}`, (ctx, m) => listDefinitions(ctx, m[1] ?? "")),
  route("GET", `(.*)${RD}/([^/]+)`, (ctx, m) => {
    const d = definitionsFor(ctx, m[1] ?? "").find((x) => lc(String(x.name)) === lc(m[2]));
    if (!d)
      return armError(
        404,
        "RoleDefinitionDoesNotExist",
        `The specified role definition with ID '${m[2]}' does not exist.`,
      );
    return json(200, d);
  }),
];
