/**
 * Function Apps and web apps, read live through @azure/arm-appservice: each site (GET sites) with
 * its configuration (GET …/config/web: the start-up command and container image that
 * `siteConfig` in the list leaves out), and — only with --read-app-settings — its app settings
 * (POST …/config/appsettings/list). That call returns secrets, so the settings are cut down
 * before anything else sees them: the names all stay (rules may test that one is set), values
 * only for settings that are configuration rather than credentials (KEPT_SETTINGS), and URLs
 * among them lose their SAS signature and any other secret query value.
 */
import { WebSiteManagementClient } from "@azure/arm-appservice";
import { BodyCapture, stripQuery } from "../../azure/live/arm.js";
import { eachSubscription } from "../../azure/live/each.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { isObj, type Json, parseResourceId, str } from "../../azure/normalize/util.js";
import { toFunctionApp } from "../../azure/normalize/web.js";
import type { CollectedItem } from "../../model/records.js";
import { REDACTED, redactText } from "../../util/redact.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";

const NEEDS_SITES = { what: "App Service sites", role: "Reader (Microsoft.Web/sites/read)" };
const NEEDS_CONFIG = { what: "site configuration", role: "Reader (Microsoft.Web/sites/config/read)" };
const NEEDS_SETTINGS = {
  what: "app settings",
  role: "Website Contributor, or a custom role with Microsoft.Web/sites/config/list/action (docs/permissions.md)",
};

/** App settings whose values are configuration, not credentials: kept (URLs with secrets stripped). */
export const KEPT_SETTINGS = new Set(
  [
    "WEBSITE_RUN_FROM_PACKAGE",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_NODE_DEFAULT_VERSION",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITES_ENABLE_APP_SERVICE_STORAGE",
    "WEBSITE_USE_ZIP",
    "WEBSITE_RUN_FROM_ZIP",
    "WEBSITES_PORT",
    "DOCKER_REGISTRY_SERVER_URL",
    "DOCKER_CUSTOM_IMAGE_NAME",
    "WEBSITE_ENABLE_SYNC_UPDATE_SITE",
  ].map((n) => n.toUpperCase()),
);

/** App settings as rules may see them: names kept, values only where KEPT_SETTINGS says. */
export function cutSettings(properties: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties)) {
    if (typeof value !== "string") continue;
    out[name] = KEPT_SETTINGS.has(name.toUpperCase()) ? redactText(value) : REDACTED;
  }
  return out;
}

/**
 * A siteConfig as rules may see it. `appSettings` (NameValuePair[]) and `connectionStrings`
 * (ConnStringInfo[]: name, connectionString, type) are SiteConfig members in the REST spec
 * (specification/web/…/Microsoft.Web/stable/2024-04-01/WebApps.json, definitions SiteConfig,
 * NameValuePair, ConnStringInfo). ARM leaves them null in GET site and config/web, but a body that
 * carries them carries secrets: setting values are cut as `cutSettings` cuts them, connection
 * strings replaced whole, before anything is kept.
 */
export function cutSiteConfig(siteConfig: Json): Json {
  const out: Json = { ...siteConfig };
  if (Array.isArray(siteConfig.appSettings))
    out.appSettings = siteConfig.appSettings.map((p) => {
      if (!isObj(p) || typeof p.name !== "string") return p;
      const cut = cutSettings({ [p.name]: typeof p.value === "string" ? p.value : "" });
      return { ...p, value: cut[p.name] ?? REDACTED };
    });
  if (Array.isArray(siteConfig.connectionStrings))
    out.connectionStrings = siteConfig.connectionStrings.map((c) =>
      isObj(c) ? { ...c, connectionString: REDACTED } : c,
    );
  return out;
}

export class AppServiceCollector implements Collector {
  readonly source = "app-service" as const;

  constructor(
    private readonly session: AzureSession,
    private readonly scope: LiveScope,
    private readonly options: { readAppSettings: boolean },
  ) {}

  async plan(options: PlanOptions = {}): Promise<CollectionPlan> {
    const subs = await this.scope.subscriptions(options.abortSignal);
    return { source: this.source, scopes: subs.map((s) => s.id) };
  }

  collect(plan: CollectionPlan, options: CollectOptions): AsyncIterable<readonly CollectedItem[]> {
    const session = this.session;
    const readSettings = this.options.readAppSettings;
    const abortSignal = options.abortSignal;
    return eachSubscription(this.source, plan, options, async function* (s) {
      const capture = new BodyCapture();
      const client = new WebSiteManagementClient(session.credential, s.id, session.armClientOptions(capture.policy));
      const sites: { site: Json; location: string; index: number }[] = [];
      const listed = await s.attempt(NEEDS_SITES, async () => {
        for await (const page of capture.pages(client.webApps.list({ abortSignal })))
          for (const [i, site] of page.items.entries())
            sites.push({ site, location: stripQuery(page.url), index: i + 1 });
        return true;
      });
      // Only a list that was read can say there are none.
      if (listed && sites.length === 0) s.scope.note("no App Service sites");
      for (const { site, location, index } of sites) {
        const id = str(site.id);
        const name = str(site.name);
        const rg = id ? parseResourceId(id).resourceGroup : undefined;
        if (!id || !name || !rg) {
          s.scope.unreadableRecord({ url: location, line: index }, "is not a site (no id, name or resource group)");
          continue;
        }
        const config = await s.attempt(NEEDS_CONFIG, () =>
          capture.body(() => client.webApps.getConfiguration(rg, name, { abortSignal })),
        );
        const merged: Json = { ...site };
        const props = isObj(site.properties) ? site.properties : {};
        const fromList = isObj(props.siteConfig) ? props.siteConfig : {};
        const fromConfig = config && isObj(config.body.properties) ? config.body.properties : {};
        if (isObj(site.properties) || config)
          merged.properties = { ...props, siteConfig: cutSiteConfig({ ...fromList, ...fromConfig }) };
        let settings: Json | undefined;
        if (readSettings) {
          const r = await s.attempt(NEEDS_SETTINGS, () =>
            capture.body(() => client.webApps.listApplicationSettings(rg, name, { abortSignal })),
          );
          if (r) settings = { ...r.body, properties: cutSettings(isObj(r.body.properties) ? r.body.properties : {}) };
        }
        const app = toFunctionApp(merged, settings, { shape: "site", location, index });
        if (!app) {
          s.scope.unreadableRecord({ url: location, line: index }, "is not a site");
          continue;
        }
        s.scope.record();
        yield [app];
      }
      if (!readSettings && sites.length > 0)
        s.scope.note("app settings not read (pass --read-app-settings: the run-from-package URL is one of them)");
    });
  }
}
