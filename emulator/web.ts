/**
 * Microsoft.Web (App Service / Function Apps), from demo functionApps/sites-<sub>.json and
 * functionApps/<site>.appsettings.json. Example files (Azure/azure-rest-api-specs,
 * specification/web/resource-manager/Microsoft.Web/stable/2024-04-01/examples/, the first three
 * copied under /work/shared/reference/azure-rest-api-specs):
 *   sites list ............................ ListWebApps.json / ListWebAppsByResourceGroup
 *   site GET .............................. GetWebApp.json
 *   config/web ............................ GetSiteConfig.json
 *   POST config/appsettings/list .......... ListAppSettings.json
 *   basicPublishingCredentialsPolicies/{scm,ftp}  GetPublishingCredentialsPolicy.json
 *   functions, deployments, siteextensions, slots: `{value: []}` collections (the demo has none)
 *   sourcecontrols/web: ARM 404 (the demo configures no source control)
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
    page(
      ctx,
      ["ftp", "scm"].map((n) =>
        child(
          site,
          `basicPublishingCredentialsPolicies/${n}`,
          "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
          {
            allow: true,
          },
        ),
      ),
    ),
  ),
  onSite("GET", "/basicPublishingCredentialsPolicies/(scm|ftp)", (_ctx, site, m) =>
    json(
      200,
      child(
        site,
        `basicPublishingCredentialsPolicies/${lc(m[4])}`,
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
        {
          allow: true,
        },
      ),
    ),
  ),
  onSite("GET", "/functions", (ctx) => page(ctx, [])),
  onSite("GET", "/deployments", (ctx) => page(ctx, [])),
  onSite("GET", "/siteextensions", (ctx) => page(ctx, [])),
  onSite("GET", "/slots", (ctx) => page(ctx, [])),
  onSite("GET", "/sourcecontrols/web", (_ctx, site) =>
    notFound(
      "Microsoft.Web/sites/sourcecontrols",
      `${String(site.name)}/web`,
      String((site.id as string).split("/")[4]),
    ),
  ),
];
