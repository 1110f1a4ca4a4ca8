import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LiveScope } from "../../src/azure/live/scope.js";
import { AppServiceCollector } from "../../src/collectors/app-service/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { CollectedItem, FunctionApp } from "../../src/model/records.js";
import { runScan } from "../../src/scan/run.js";
import { REDACTED } from "../../src/util/redact.js";
import { armForbidden, exampleBody, testSession } from "../helpers.js";

const ARM = "https://management.example.test";
/** The subscription and resource group of the Microsoft.Web examples. */
const SUB = "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345";
const RG = "testrg123";
const API = "2025-05-01";
const SITES = `/subscriptions/${SUB}/providers/Microsoft.Web/sites`;
const site = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Web/sites/${name}`;

type Json = Record<string, unknown>;
const listWebApps = exampleBody("ListWebApps.json") as { value: Json[] };
const siteConfig = exampleBody("GetSiteConfig.json") as Json;
const appSettings = exampleBody("ListAppSettings.json") as { properties: Record<string, string> };
const [site1, site2] = listWebApps.value as [Json, Json];

const session = () => testSession(ARM);
const forbidden = (action: string) => armForbidden(action, SUB);

/** GET sites: ListWebApps.json's first site on page 1, its second on page 2 (after nextLink). */
function sitesInTwoPages(n: nock.Scope): nock.Scope {
  return n
    .get(SITES)
    .query({ "api-version": API })
    .reply(200, { value: [site1], nextLink: `${ARM}${SITES}?api-version=${API}&$skipToken=2` })
    .get(SITES)
    .query({ "api-version": API, $skipToken: "2" })
    .reply(200, { value: [site2] });
}

function configFor(n: nock.Scope, name: string): nock.Scope {
  return n
    .get(`${site(name)}/config/web`)
    .query({ "api-version": API })
    .reply(200, { ...siteConfig, id: `${site(name)}/config/web` });
}

async function collect(readAppSettings: boolean) {
  const s = session();
  const c = new AppServiceCollector(s, new LiveScope(s, { subscriptions: [SUB] }), { readAppSettings });
  const plan = await c.plan();
  const tally = new CoverageTally();
  const items: CollectedItem[] = [];
  for await (const b of c.collect(plan, { tally, diagnostics: new Diagnostics() })) items.push(...b);
  return {
    plan,
    coverage: tally.entries(),
    apps: items.filter((i): i is FunctionApp => i.kind === "functionApp"),
    items,
  };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("live App Service collector", () => {
  it("yields ListWebApps.json's sites, following nextLink, with config/web merged in", async () => {
    const scope = configFor(configFor(sitesInTwoPages(nock(ARM)), "sitef6141"), "sitef7252");
    const { plan, coverage, apps } = await collect(false);
    expect(scope.isDone()).toBe(true);
    expect(plan.scopes).toEqual([SUB]);

    expect(apps.map((a) => [a.id, a.name, a.siteKind, a.isFunctionApp, a.resourceGroup, a.subscriptionId])).toEqual([
      [site1.id, "sitef6141", "app", false, RG, SUB],
      [site2.id, "sitef7252", "app", false, RG, SUB],
    ]);
    expect(apps.map((a) => [a.location, a.state])).toEqual([
      ["East US", "Running"],
      ["East US", "Running"],
    ]);
    // Without --read-app-settings no settings are asked for (nock would refuse the POST).
    expect(apps.every((a) => a.appSettings === undefined)).toBe(true);
    // Page 2's site is located at page 2's URL, without its query (skip token).
    expect(apps[1]?.origin.location).toBe(`${ARM}${SITES}`);
    // config/web's properties become the site's siteConfig (phpVersion is in both; ftpsState too).
    const raw = apps[0]?.raw as { properties: { siteConfig: Json } } | undefined;
    expect(raw).toBeDefined();
    const merged = raw?.properties.siteConfig;
    expect(merged).toMatchObject(siteConfig.properties as Json);

    expect(coverage).toHaveLength(1);
    expect(coverage[0]).toMatchObject({ source: "app-service", scope: `subscription ${SUB}`, status: "complete" });
    expect(coverage[0]?.records).toBe(2);
    expect(coverage[0]?.reason).toContain("app settings not read (pass --read-app-settings");
  });

  it("settings and connection strings inside siteConfig are cut too, whatever body carries them", async () => {
    // SiteConfig's appSettings (NameValuePair[]) and connectionStrings (ConnStringInfo[]) as the
    // REST spec defines them (WebApps.json); ARM leaves them null, a proxy or a future version need not.
    const secret = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0;";
    const pkg = "https://a.blob.core.windows.net/p/app.zip?sv=2022-11-02&sig=c2lnbmF0dXJl";
    const scope = sitesInTwoPages(nock(ARM));
    for (const name of ["sitef6141", "sitef7252"])
      scope
        .get(`${site(name)}/config/web`)
        .query({ "api-version": API })
        .reply(200, {
          ...siteConfig,
          id: `${site(name)}/config/web`,
          properties: {
            ...(siteConfig.properties as Json),
            appSettings: [
              { name: "AzureWebJobsStorage", value: secret },
              { name: "WEBSITE_RUN_FROM_PACKAGE", value: pkg },
            ],
            connectionStrings: [{ name: "db", connectionString: "Server=x;Password=hunter2;", type: "SQLAzure" }],
          },
        });
    const { apps, items } = await collect(false);
    expect(scope.isDone()).toBe(true);
    const text = JSON.stringify(items);
    expect(text).not.toContain("c2VjcmV0c2VjcmV0");
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("c2lnbmF0dXJl");
    // What rules read is kept: the package URL without its signature.
    expect(apps[0]?.appSettings?.WEBSITE_RUN_FROM_PACKAGE).toContain("https://a.blob.core.windows.net/p/app.zip");
    expect(apps[0]?.appSettings?.AzureWebJobsStorage).toBe(REDACTED);
  });

  it("with readAppSettings, POSTs appsettings/list and keeps names but never the secret values", async () => {
    const scope = configFor(configFor(sitesInTwoPages(nock(ARM)), "sitef6141"), "sitef7252");
    for (const name of ["sitef6141", "sitef7252"])
      scope
        .post(`${site(name)}/config/appsettings/list`)
        .query({ "api-version": API })
        .reply(200, { ...appSettings, id: `${site(name)}/config/appsettings` });

    const { coverage, apps, items } = await collect(true);
    expect(scope.isDone()).toBe(true);
    expect(apps).toHaveLength(2);
    const names = Object.keys(appSettings.properties);
    expect(names).toEqual(["Setting1", "Setting2"]);
    for (const a of apps) expect(a.appSettings).toEqual({ Setting1: REDACTED, Setting2: REDACTED });

    // No value of ListAppSettings.json (neither setting is configuration) is anywhere in the output.
    const out = JSON.stringify(items);
    for (const v of Object.values(appSettings.properties)) expect(out).not.toContain(v);
    expect(coverage[0]?.status).toBe("complete");
    expect(coverage[0]?.records).toBe(2);
  });

  it("a 403 AuthorizationFailed on appsettings/list leaves the scope partial, naming the role", async () => {
    const scope = configFor(configFor(sitesInTwoPages(nock(ARM)), "sitef6141"), "sitef7252");
    for (const name of ["sitef6141", "sitef7252"])
      scope
        .post(`${site(name)}/config/appsettings/list`)
        .query({ "api-version": API })
        .reply(403, forbidden("Microsoft.Web/sites/config/list/action"));

    const { coverage, apps } = await collect(true);
    expect(scope.isDone()).toBe(true);
    // The sites are still read; only their settings are missing.
    expect(apps.map((a) => a.name)).toEqual(["sitef6141", "sitef7252"]);
    expect(apps.every((a) => a.appSettings === undefined)).toBe(true);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toContain("not authorised to read app settings");
    expect(coverage[0]?.reason).toContain("(AuthorizationFailed)");
    expect(coverage[0]?.reason).toContain("Microsoft.Web/sites/config/list/action");
  });

  it("a 403 AuthorizationFailed on the site list fails the scope; runScan says incomplete", async () => {
    const scope = nock(ARM).get(SITES).query({ "api-version": API }).reply(403, forbidden("Microsoft.Web/sites/read"));

    const s = session();
    const { result } = await runScan({
      collectors: [new AppServiceCollector(s, new LiveScope(s, { subscriptions: [SUB] }), { readAppSettings: true })],
      loaded: { rules: [], correlations: [], errors: [] } as unknown as Parameters<typeof runScan>[0]["loaded"],
      now: () => new Date("2026-01-01T00:00:00Z"),
    });
    expect(scope.isDone()).toBe(true);
    expect(result.complete).toBe(false);
    expect(result.coverage).toHaveLength(1);
    expect(result.coverage[0]?.status).toBe("failed");
    expect(result.coverage[0]?.records).toBe(0);
    expect(result.coverage[0]?.reason).toContain(
      `not authorised to read App Service sites of subscription ${SUB} (AuthorizationFailed): grant the scanning identity Reader (Microsoft.Web/sites/read)`,
    );
    // A list that was refused says nothing about how many sites there are.
    expect(result.coverage[0]?.reason).not.toContain("no App Service sites");
  });
});
