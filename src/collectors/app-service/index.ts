/**
 * Function Apps and web apps, read live through @azure/arm-appservice: each site (GET sites) with
 * its configuration (GET …/config/web: the start-up command and container image that
 * `siteConfig` in the list leaves out), and — only with --read-app-settings — its app settings
 * (POST …/config/appsettings/list). That call returns secrets, so the settings are cut down
 * before anything else sees them: the names all stay (rules may test that one is set), values
 * only for settings that are configuration rather than credentials (KEPT_SETTINGS), and URLs
 * among them lose their SAS signature and any other secret query value.
 *
 * Then, per site, the children that say where its code comes from and who can push it (SITE_CHILDREN):
 * functions (Function Apps only), source control, the basic-auth publishing policies, deployments
 * and site extensions (Windows sites only: Linux App Service has none). Each body becomes an
 * ArmResource record as ARM returns it — the same record a file holding that body gives — so
 * rules and payload extraction read them one way whatever the source (docs/payloads.md).
 */
import { WebSiteManagementClient } from "@azure/arm-appservice";
import { BodyCapture, explain, type Needs, stripQuery } from "../../azure/live/arm.js";
import { eachSubscription } from "../../azure/live/each.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { toArmResource } from "../../azure/normalize/resources.js";
import { isObj, type Json, parseResourceId, str } from "../../azure/normalize/util.js";
import { toFunctionApp } from "../../azure/normalize/web.js";
import type { CollectedItem } from "../../model/records.js";
import { REDACTED, redactText } from "../../util/redact.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";

const NEEDS_SITES = { what: "App Service sites", role: "Reader (Microsoft.Web/sites/read)" };
const NEEDS_CONFIG = { what: "site configuration", role: "Reader (Microsoft.Web/sites/config/read)" };
const NEEDS_SETTINGS = {
  what: "app settings",
  role: "Website Contributor, or a custom role with Microsoft.Web/sites/config/list/action (docs/permissions.md)",
};

const NEEDS_FUNCTIONS = { what: "Function App functions", role: "Reader (Microsoft.Web/sites/functions/read)" };
const NEEDS_SOURCE_CONTROL = {
  what: "site source control",
  role: "Reader (Microsoft.Web/sites/sourcecontrols/read)",
};
const NEEDS_PUBLISHING_POLICIES = {
  what: "basic publishing credentials policies",
  role: "Reader (Microsoft.Web/sites/basicPublishingCredentialsPolicies/read)",
};
const NEEDS_DEPLOYMENTS = { what: "site deployments", role: "Reader (Microsoft.Web/sites/deployments/read)" };
const NEEDS_SITE_EXTENSIONS = { what: "site extensions", role: "Reader (Microsoft.Web/sites/siteextensions/read)" };

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

/**
 * A site child as rules may see it. Secrets a child body can carry, by the REST spec's models
 * (TypeSpec Microsoft.Web, as @azure/arm-appservice 19 deserialises them): a source control's
 * `gitHubActionConfiguration.containerConfiguration.password` (GitHubActionContainerConfiguration)
 * goes, and its `repoUrl` loses user info (`https://user:token@…`); a function's `files` (file name
 * → content) and `test_data` keep their text minus recognisable secrets (redactText).
 */
export function cutSiteChild(body: Json): Json {
  const props = isObj(body.properties) ? body.properties : undefined;
  if (!props) return body;
  const out: Json = { ...props };
  if (typeof props.repoUrl === "string") out.repoUrl = redactText(props.repoUrl);
  const gha = isObj(props.gitHubActionConfiguration) ? props.gitHubActionConfiguration : undefined;
  if (gha && isObj(gha.containerConfiguration) && gha.containerConfiguration.password != null)
    out.gitHubActionConfiguration = {
      ...gha,
      containerConfiguration: { ...gha.containerConfiguration, password: REDACTED },
    };
  if (isObj(props.files))
    out.files = Object.fromEntries(
      Object.entries(props.files).map(([k, v]) => [k, typeof v === "string" ? redactText(v) : v]),
    );
  if (typeof props.test_data === "string") out.test_data = redactText(props.test_data);
  return { ...body, properties: out };
}

type Client = InstanceType<typeof WebSiteManagementClient>;
type Site = { rg: string; name: string; kind: string };
type Paged = { byPage(): AsyncIterable<unknown> };

/**
 * The children read per site: what, which sites have them, the call, and whether ARM's 404 means
 * "there is none" (a site without source control; listFunctions' spec declares a 404 response)
 * rather than a failed read.
 */
export const SITE_CHILDREN: {
  type: string;
  needs: Needs;
  applies(site: Site): boolean;
  read: (c: Client, s: Site, o: { abortSignal?: AbortSignal }) => Paged | Promise<unknown>;
  list: boolean;
  noneOn404: boolean;
}[] = [
  {
    type: "Microsoft.Web/sites/functions",
    needs: NEEDS_FUNCTIONS,
    applies: (s) => s.kind.toLowerCase().includes("functionapp"),
    read: (c, s, o) => c.webApps.listFunctions(s.rg, s.name, o),
    list: true,
    noneOn404: true,
  },
  {
    type: "Microsoft.Web/sites/sourcecontrols",
    needs: NEEDS_SOURCE_CONTROL,
    applies: () => true,
    read: (c, s, o) => c.webApps.getSourceControl(s.rg, s.name, o),
    list: false,
    noneOn404: true,
  },
  {
    type: "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
    needs: NEEDS_PUBLISHING_POLICIES,
    applies: () => true,
    // One list (scm and ftp) rather than getScmAllowed + getFtpAllowed: half the calls.
    read: (c, s, o) => c.webApps.listBasicPublishingCredentialsPolicies(s.rg, s.name, o),
    list: true,
    noneOn404: false,
  },
  {
    type: "Microsoft.Web/sites/deployments",
    needs: NEEDS_DEPLOYMENTS,
    applies: () => true,
    read: (c, s, o) => c.webApps.listDeployments(s.rg, s.name, o),
    list: true,
    noneOn404: false,
  },
  {
    type: "Microsoft.Web/sites/siteextensions",
    needs: NEEDS_SITE_EXTENSIONS,
    applies: (s) => !s.kind.toLowerCase().includes("linux"),
    read: (c, s, o) => c.webApps.listSiteExtensions(s.rg, s.name, o),
    list: true,
    noneOn404: false,
  },
];

function statusOf(e: unknown): number | undefined {
  const code = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/**
 * Per-site reads that failed, one reason per kind of read with how many sites it hit — a role
 * missing on a subscription of 500 apps is one sentence, not 500.
 */
class SiteReadFailures {
  private readonly byKind = new Map<Needs, { first: string; count: number }>();

  constructor(
    private readonly where: string,
    private readonly abortSignal: AbortSignal | undefined,
  ) {}

  add(e: unknown, needs: Needs): void {
    if (this.abortSignal?.aborted) throw e;
    const f = this.byKind.get(needs);
    if (f) f.count++;
    else this.byKind.set(needs, { first: explain(e, this.where, needs), count: 1 });
  }

  report(scope: ScopeTally): void {
    for (const f of this.byKind.values()) scope.missed(f.count === 1 ? f.first : `${f.first} (${f.count} sites)`);
  }
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
      const failures = new SiteReadFailures(`subscription ${s.id}`, abortSignal);
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
        const config = await readOne(NEEDS_CONFIG, () =>
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
          const r = await readOne(NEEDS_SETTINGS, () =>
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
        const out: CollectedItem[] = [app];
        const here: Site = { rg, name, kind: str(site.kind) ?? "" };
        for (const child of SITE_CHILDREN) {
          if (!child.applies(here)) continue;
          const bodies: { body: Json; url: string; index: number }[] = [];
          try {
            if (child.list) {
              for await (const page of capture.pages(child.read(client, here, { abortSignal }) as Paged))
                for (const [i, item] of page.items.entries()) bodies.push({ body: item, url: page.url, index: i + 1 });
            } else {
              const one = await capture.body(() => child.read(client, here, { abortSignal }) as Promise<unknown>);
              bodies.push({ ...one, index: 1 });
            }
          } catch (e) {
            if (!(child.noneOn404 && statusOf(e) === 404)) failures.add(e, child.needs);
            continue;
          }
          for (const b of bodies) {
            const at = stripQuery(b.url);
            const r = toArmResource(cutSiteChild(b.body), { shape: "arm-resource", location: at, index: b.index });
            if (!r) {
              s.scope.unreadableRecord({ url: at, line: b.index }, `is not a ${child.type} resource (no id or type)`);
              continue;
            }
            s.scope.record();
            out.push(r);
          }
        }
        yield out;
      }
      failures.report(s.scope);
      if (!readSettings && sites.length > 0)
        s.scope.note("app settings not read (pass --read-app-settings: the run-from-package URL is one of them)");

      async function readOne<T>(needs: Needs, read: () => Promise<T>): Promise<T | undefined> {
        try {
          return await read();
        } catch (e) {
          failures.add(e, needs);
          return undefined;
        }
      }
    });
  }
}
