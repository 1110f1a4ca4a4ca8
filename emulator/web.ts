/**
 * Microsoft.Web (App Service / Function Apps), from demo functionApps/sites-<sub>.json and
 * functionApps/<site>.appsettings.json. Example files (Azure/azure-rest-api-specs,
 * specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/examples/, the first three
 * copied under /work/shared/reference/azure-rest-api-specs):
 *   sites list ............................ ListWebApps.json / ListWebAppsByResourceGroup
 *   site GET .............................. GetWebApp.json
 *   config/web ............................ GetSiteConfig.json
 *   POST config/appsettings/list .......... ListAppSettings.json
 *   basicPublishingCredentialsPolicies ..... ListPublishingCredentialsPolicies.json
 *   basicPublishingCredentialsPolicies/{scm,ftp}  GetPublishingCredentialsPolicy.json
 *   functions, deployments, siteextensions: the snapshot's `functionApps/children-<sub>.json`
 *     (bodies as ARM returns them; no spec example exists for these lists), `{value: []}` without
 *   sourcecontrols/web, policies/{scm,ftp}: that file's body, else ARM's 404
 *   slots: `{value: []}` (the demo has none)
 * Nothing is served that the snapshot does not hold: the demo has no children, so its sites answer
 * with empty lists and 404s, and a live scan of it finds what a scan of its files finds.
 */
import { type Ctx, notFound, page, RG, type Route, rgExists, rgNotFound, route, SUB, under } from "./arm.ts";
import { isObject, type JsonObject, json, lc, type Reply } from "./util.ts";

function sitesOf(ctx: Ctx, sub: string): JsonObject[] {
  return ctx.snap.sites.get(lc(sub)) ?? [];
}

function findSite(ctx: Ctx, sub: string, rg: string, name: string): JsonObject | undefined {
  return under(sitesOf(ctx, sub), sub, rg).find((s) => lc(String(s.name)) === lc(name));
}

const SITE = `${RG}/providers/Microsoft\\.Web/sites/([^/]+)`;

/** Route on a site: resolves it (404s in the ARM form) and hands it to `f`. */
function onSite(
  method: "GET" | "POST",
  suffix: string,
  f: (ctx: Ctx, site: JsonObject, m: RegExpExecArray) => Reply,
): Route {
  return route(method, `${SITE}${suffix}`, (ctx, m) => {
    const [sub, rg, name] = [m[1] as string, m[2] as string, m[3] as string];
    if (!rgExists(ctx, sub, rg)) return rgNotFound(rg);
    const site = findSite(ctx, sub, rg, name);
    if (!site) return notFound("Microsoft.Web/sites", name, rg);
    return f(ctx, site, m);
  });
}

/** The snapshot's children of `site` of one type (e.g. "functions"), in file order. */
function childrenOf(ctx: Ctx, site: JsonObject, segment: string): JsonObject[] {
  const all = ctx.snap.siteChildren.get(lc(String(site.id))) ?? [];
  const prefix = `${lc(String(site.id))}/${lc(segment)}/`;
  return all.filter((c) => lc(String(c.id)).startsWith(prefix));
}

/** One named child (a singleton such as sourcecontrols/web), or ARM's 404 for it. */
function oneChild(ctx: Ctx, site: JsonObject, segment: string, name: string, type: string): Reply {
  const found = childrenOf(ctx, site, segment).find((c) => lc(String(c.id)).endsWith(`/${lc(name)}`));
  return found
    ? json(200, found)
    : notFound(type, `${String(site.name)}/${name}`, String((site.id as string).split("/")[4]));
}

function child(site: JsonObject, path: string, type: string, properties: JsonObject): JsonObject {
  return { id: `${site.id}/${path}`, name: path.split("/").pop() as string, type, properties };
}

export const webRoutes: Route[] = [
  route("GET", `${SUB}/providers/Microsoft\\.Web/sites`, (ctx, m) => page(ctx, sitesOf(ctx, m[1] as string))),
  route("GET", `${RG}/providers/Microsoft\\.Web/sites`, (ctx, m) => {
    if (!rgExists(ctx, m[1] as string, m[2] as string)) return rgNotFound(m[2] as string);
    return page(ctx, under(sitesOf(ctx, m[1] as string), m[1] as string, m[2] as string));
  }),
  onSite("GET", "", (_ctx, site) => json(200, site)),
  onSite("GET", "/config/web", (_ctx, site) => {
    const p = isObject(site.properties) ? site.properties : {};
    const cfg = isObject(p.siteConfig) ? p.siteConfig : {};
    return json(200, child(site, "config/web", "Microsoft.Web/sites/config", cfg));
  }),
  onSite("POST", "/config/appsettings/list", (ctx, site) => {
    const s = ctx.snap.appSettings.get(lc(String(site.id)));
    return json(
      200,
      s ?? { ...child(site, "config/appsettings", "Microsoft.Web/sites/config", {}), kind: site.kind ?? null },
    );
  }),
  onSite("POST", "/config/connectionstrings/list", (_ctx, site) =>
    json(200, child(site, "config/connectionstrings", "Microsoft.Web/sites/config", {})),
  ),
  onSite("GET", "/basicPublishingCredentialsPolicies", (ctx, site) =>
    page(ctx, childrenOf(ctx, site, "basicPublishingCredentialsPolicies")),
  ),
  onSite("GET", "/basicPublishingCredentialsPolicies/(scm|ftp)", (ctx, site, m) =>
    oneChild(
      ctx,
      site,
      "basicPublishingCredentialsPolicies",
      lc(m[4]),
      "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
    ),
  ),
  onSite("GET", "/functions", (ctx, site) => page(ctx, childrenOf(ctx, site, "functions"))),
  onSite("GET", "/deployments", (ctx, site) => page(ctx, childrenOf(ctx, site, "deployments"))),
  onSite("GET", "/siteextensions", (ctx, site) => page(ctx, childrenOf(ctx, site, "siteextensions"))),
  onSite("GET", "/slots", (ctx) => page(ctx, [])),
  onSite("GET", "/sourcecontrols/web", (ctx, site) =>
    oneChild(ctx, site, "sourcecontrols", "web", "Microsoft.Web/sites/sourcecontrols"),
  ),
];
