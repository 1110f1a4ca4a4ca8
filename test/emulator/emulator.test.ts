/**
 * The loopback emulator driven by the real Azure SDK clients through the custom-cloud path:
 * ClientSecretCredential with `authorityHost` + `disableInstanceDiscovery`, ARM clients with
 * `{endpoint, credentialScopes}`. In-process, the test CA is trusted with
 * tls.setDefaultCACertificates (NODE_EXTRA_CA_CERTS is read only at process start); the CLI test
 * runs a child process with NODE_EXTRA_CA_CERTS, as CI does.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import tls from "node:tls";
import { WebSiteManagementClient } from "@azure/arm-appservice";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { MonitorClient } from "@azure/arm-monitor";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import {
  ContainerRegistryClient,
  ContainerRegistryContentClient,
  KnownContainerRegistryAudience,
} from "@azure/container-registry";
import { ServiceClient } from "@azure/core-client";
import { createPipelineRequest } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addFault, emptyFaults } from "../../emulator/faults.ts";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { LiveScope } from "../../src/azure/live/scope.js";
import { createSession } from "../../src/azure/live/session.js";
import { classify } from "../../src/azure/normalize/index.js";
import { AppServiceCollector } from "../../src/collectors/app-service/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { ArmResource, CollectedItem } from "../../src/model/records.js";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { tempDir } from "../helpers.js";

const PROD = "8b1811f6-5813-475a-8054-5d2939bd681f";
const DEV = "091c6054-988d-4631-9070-418c6f76a5fa";
const ARM_SCOPE = "https://management.azure.com/.default";

const running: RunningEmulator[] = [];
async function emulator(opts: Parameters<typeof startEmulator>[0] = {}): Promise<RunningEmulator> {
  const e = await startEmulator({ port: 0, ...opts });
  running.push(e);
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), ...running.map((r) => r.caPem)]);
  return e;
}

function credential(e: RunningEmulator, secret = e.info.clientSecret): ClientSecretCredential {
  return new ClientSecretCredential(e.info.tenantId, e.info.clientId, secret, {
    authorityHost: e.info.authorityHost,
    disableInstanceDiscovery: true,
  });
}

function armOptions(e: RunningEmulator) {
  return { endpoint: e.info.armEndpoint, credentialScopes: [ARM_SCOPE] };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A raw HTTPS request (for what SDK clients hide: status codes of faults, headers). */
function raw(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on("error", reject);
      res.on("aborted", () => reject(new Error("aborted")));
    });
    req.on("error", reject);
  });
}

afterAll(async () => {
  await Promise.all(running.map((e) => e.close()));
});

describe("emulator with the demo tenant", () => {
  let e: RunningEmulator;
  beforeAll(async () => {
    e = await emulator({ acrPageSize: 2 });
  });

  it("lists subscriptions and tenants", async () => {
    const c = new SubscriptionClient(credential(e), armOptions(e));
    const subs = await collect(c.subscriptions.list());
    expect(subs.map((s) => s.displayName).sort()).toEqual(["contoso-dev", "contoso-prod"]);
    expect((await c.subscriptions.get(PROD)).subscriptionId).toBe(PROD);
    const tenants = await collect(c.tenants.list());
    expect(tenants.map((t) => t.tenantId)).toEqual([e.info.tenantId]);
  });

  it("rejects a wrong client secret with an AADSTS error", async () => {
    const c = new SubscriptionClient(credential(e, "wrong"), armOptions(e));
    await expect(collect(c.subscriptions.list())).rejects.toThrow(/AADSTS7000215/);
  });

  it("answers 401 with WWW-Authenticate without a token", async () => {
    const r = await raw(`${e.info.armEndpoint}/subscriptions?api-version=2022-12-01`);
    expect(r.status).toBe(401);
    expect(String(r.headers["www-authenticate"])).toMatch(/^Bearer authorization_uri=/);
    expect(JSON.parse(r.body).error.code).toBe("AuthenticationFailed");
  });

  it("serves the Activity Log of both subscriptions across pages, newest first, time-shifted", async () => {
    const from = e.snapshot.shift.iso(e.snapshot.window.from);
    const to = e.snapshot.shift.iso(e.snapshot.window.to);
    expect(Date.now() - Date.parse(to)).toBeLessThan(86_400_000);
    expect(Date.now() - Date.parse(to)).toBeGreaterThanOrEqual(0);
    const filter = `eventTimestamp ge '${from}' and eventTimestamp le '${to}'`;
    for (const [sub, count] of [
      [PROD, 1039],
      [DEV, 565],
    ] as const) {
      const before = e.requests.length;
      const c = new MonitorClient(credential(e), sub, armOptions(e));
      const events = await collect(c.activityLogs.list(filter));
      expect(events.length).toBe(count);
      const pages = e.requests.slice(before).filter((r) => /eventtypes\/management\/values$/i.test(r.path));
      expect(pages.length).toBe(Math.ceil(count / 100));
      const times = events.map((x) => x.eventTimestamp?.getTime() ?? 0);
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(events.every((x) => x.subscriptionId === sub && x.operationName?.value && x.status?.value)).toBe(true);
    }
    const c = new MonitorClient(credential(e), PROD, armOptions(e));
    const rg = await collect(
      c.activityLogs.list(`${filter} and resourceGroupName eq 'rg-app'`, {
        select: "eventName,operationName,resourceGroupName",
      }),
    );
    expect(rg.length).toBeGreaterThan(0);
    expect(rg.every((x) => x.resourceGroupName === "rg-app" && x.caller === undefined)).toBe(true);
    const attack = await collect(c.activityLogs.list(`${filter} and caller eq 'a442edc7-37ba-4cef-a407-f093bfc1c697'`));
    expect(attack.some((x) => x.httpRequest?.clientIpAddress === "203.0.113.77")).toBe(true);
  });

  it("maps export records onto the REST shape (dev subscription)", async () => {
    const c = new MonitorClient(credential(e), DEV, armOptions(e));
    const from = e.snapshot.shift.iso(e.snapshot.window.from);
    const events = await collect(c.activityLogs.list(`eventTimestamp ge '${from}'`));
    const ext = events.find((x) => x.operationName?.value === "Microsoft.Compute/virtualMachines/extensions/write");
    expect(ext?.resourceId).toMatch(
      /\/resourceGroups\/rg-dev-[a-z]+\/providers\/Microsoft\.Compute\/virtualMachines\//,
    );
    expect(ext?.resourceType?.value).toBe("Microsoft.Compute/virtualMachines/extensions");
    expect(["Started", "Accepted", "Succeeded", "Failed"]).toContain(ext?.status?.value);
    expect(ext?.level).toBe("Informational");
    expect(ext?.eventDataId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers 400 to an Activity Log request without a time range", async () => {
    const c = new MonitorClient(credential(e), PROD, armOptions(e));
    await expect(collect(c.activityLogs.list("resourceGroupName eq 'rg-app'"))).rejects.toMatchObject({
      statusCode: 400,
    });
  });

  it("serves role assignments and definitions at subscription and management-group scope", async () => {
    const c = new AuthorizationManagementClient(credential(e), PROD, armOptions(e));
    const ra = await collect(c.roleAssignments.listForSubscription());
    expect(ra.length).toBe(11);
    const mine = ra.filter((a) => a.createdBy === "a442edc7-37ba-4cef-a407-f093bfc1c697");
    expect(mine.map((a) => a.scope)).toEqual([`/subscriptions/${PROD}/resourceGroups/rg-app`]);
    const atMg = await collect(
      c.roleAssignments.listForScope(`/providers/Microsoft.Management/managementGroups/${e.info.tenantId}`, {
        filter: "atScope()",
      }),
    );
    expect(atMg.length).toBe(0);
    const belowMg = await collect(
      c.roleAssignments.listForScope("/providers/Microsoft.Management/managementGroups/mg-contoso"),
    );
    expect(belowMg.length).toBe(18);
    const defs = await collect(c.roleDefinitions.list(`/subscriptions/${DEV}`));
    expect(defs.length).toBe(8);
    expect(defs.every((d) => d.id?.startsWith(`/subscriptions/${DEV}/`))).toBe(true);
  });

  it("serves sites, site config and app settings", async () => {
    const c = new WebSiteManagementClient(credential(e), PROD, armOptions(e));
    const sites = await collect(c.webApps.list());
    expect(sites.length).toBe(6);
    const sync = sites.find((s) => s.name === "func-contoso-sync");
    expect(sync?.kind).toBe("functionapp,linux");
    const settings = await c.webApps.listApplicationSettings("rg-app", "func-contoso-sync");
    expect(settings.properties?.WEBSITE_RUN_FROM_PACKAGE).toBe("https://cdn-updates.example.net/pkg/sync.zip");
    const cfg = await c.webApps.getConfiguration("rg-app", "func-contoso-sync");
    expect(cfg.linuxFxVersion).toBeTruthy();
    // The demo holds no site children: empty lists and ARM's 404, never an invented value.
    expect(await collect(c.webApps.listBasicPublishingCredentialsPolicies("rg-app", "func-contoso-sync"))).toEqual([]);
    await expect(c.webApps.getScmAllowed("rg-app", "func-contoso-sync")).rejects.toMatchObject({ statusCode: 404 });
    await expect(c.webApps.getSourceControl("rg-app", "func-contoso-sync")).rejects.toMatchObject({ statusCode: 404 });
    expect(await collect(c.webApps.listFunctions("rg-app", "func-contoso-sync"))).toEqual([]);
    expect(await collect(c.webApps.listDeployments("rg-app", "func-contoso-sync"))).toEqual([]);
    expect(await collect(c.webApps.listSiteExtensions("rg-app", "func-contoso-notify"))).toEqual([]);
    await expect(c.webApps.get("rg-app", "nope")).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    const dev = new WebSiteManagementClient(credential(e), DEV, armOptions(e));
    expect((await collect(dev.webApps.list())).map((s) => s.name)).toEqual(["func-contoso-orders-dev"]);
  });

  it("serves VMs, run commands and extensions (no Compute SDK installed: core-client ServiceClient)", async () => {
    const client = new ServiceClient({ credential: credential(e), credentialScopes: [ARM_SCOPE] });
    const get = async (path: string) => {
      const res = await client.sendRequest(
        createPipelineRequest({ url: `${e.info.armEndpoint}${path}?api-version=2024-07-01`, method: "GET" }),
      );
      return { status: res.status, body: JSON.parse(res.bodyAsText ?? "null") };
    };
    const vms = await get(`/subscriptions/${PROD}/providers/Microsoft.Compute/virtualMachines`);
    expect(vms.body.value.map((v: { name: string }) => v.name).sort()).toEqual([
      "vm-app-01",
      "vm-app-02",
      "vm-data-01",
      "vm-web-01",
      "vm-web-02",
    ]);
    const rc = await get(
      `/subscriptions/${PROD}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01/runCommands`,
    );
    expect(rc.body.value[0].properties.source.script).toContain("http://198.51.100.23/s2.sh");
    const ext = await get(
      `/subscriptions/${PROD}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01/extensions`,
    );
    expect(ext.body.value[0].properties.type).toBe("AzureMonitorLinuxAgent");
    const cg = await get(`/subscriptions/${PROD}/providers/Microsoft.ContainerInstance/containerGroups`);
    expect(cg.body.value[0].name).toBe("cg-updater");
    expect((await get(`/subscriptions/${DEV}/providers/Microsoft.Logic/workflows`)).body.value).toEqual([]);
  });

  it("serves the registry (ARM) and its data plane: catalog, manifests, manifest and config blob", async () => {
    const arm = new ContainerRegistryManagementClient(credential(e), PROD, armOptions(e));
    const regs = await collect(arm.registries.list());
    expect(regs.map((r) => r.name)).toEqual(["contosoprodacr"]);
    const loginServer = regs[0]?.loginServer as string;
    expect(loginServer).toMatch(/^localhost:\d+$/);
    const endpoint = `https://${loginServer}`;
    const audience = KnownContainerRegistryAudience.AzureResourceManagerPublicCloud;
    const client = new ContainerRegistryClient(endpoint, credential(e), { audience });
    const before = e.requests.length;
    const repos = await collect(client.listRepositoryNames());
    expect(repos).toEqual(["contoso/api", "contoso/frontend", "contoso/web", "contoso/worker", "tools/updater"]);
    const log = e.requests.slice(before);
    expect(log.filter((r) => r.path === "/acr/v1/_catalog" && r.status === 200).length).toBe(3);
    expect(log.some((r) => r.path === "/oauth2/exchange" && r.status === 200)).toBe(true);
    const manifests = await collect(client.getRepository("contoso/api").listManifestProperties());
    expect(manifests.length).toBe(2);
    const tag = await client.getArtifact("tools/updater", "1.0").getTagProperties("1.0");
    expect(tag.digest).toMatch(/^sha256:10b7c511afb3/);
    const content = new ContainerRegistryContentClient(endpoint, "tools/updater", credential(e), { audience });
    const m = await content.getManifest("1.0");
    expect(m.digest).toBe(tag.digest);
    const cfgDigest = (m.manifest as { config: { digest: string } }).config.digest;
    const blob = await content.downloadBlob(cfgDigest);
    const chunks: Buffer[] = [];
    for await (const c of blob.content) chunks.push(Buffer.from(c as Buffer));
    const bytes = Buffer.concat(chunks);
    expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(cfgDigest);
    expect(JSON.parse(bytes.toString("utf8")).config.Cmd.join(" ")).toContain("xmrig");
  });

  it("answers Resource Graph type queries with a skip token, and 400 to other KQL", async () => {
    // @azure/arm-resourcegraph 5 takes `endpoint` and `credentials.scopes` like the other clients.
    const c = new ResourceGraphClient(credential(e), {
      endpoint: e.info.armEndpoint,
      credentials: { scopes: ["https://management.azure.com/.default"] },
    });
    const query =
      "Resources | where type in~ ('microsoft.web/sites', 'Microsoft.Compute/virtualMachines/runCommands') | project id, name, type";
    const first = await c.resources({ query, subscriptions: [PROD, DEV], options: { top: 4 } });
    expect(first.totalRecords).toBe(8);
    expect(first.count).toBe(4);
    expect(first.skipToken).toBeTruthy();
    const second = await c.resources({
      query,
      subscriptions: [PROD, DEV],
      options: { top: 4, skipToken: first.skipToken },
    });
    expect(second.count).toBe(4);
    expect(second.skipToken).toBeUndefined();
    const names = [...(first.data as { name: string }[]), ...(second.data as { name: string }[])].map((r) => r.name);
    expect(names).toContain("update-agent");
    expect(Object.keys((first.data as object[])[0] as object)).toEqual(["id", "name", "type"]);
    await expect(c.resources({ query: "Resources | summarize count() by type" })).rejects.toMatchObject({
      statusCode: 400,
    });
  });
});

describe("emulator with site children in the snapshot", () => {
  // A copy of the demo with functionApps/children-<prod>.json: bodies as ARM returns them
  // (ListPublishingCredentialsPolicies.json for the policies; the models for the rest, as in
  // test/collectors/live-app-service.test.ts).
  const site = (rg: string, name: string) =>
    `/subscriptions/${PROD}/resourceGroups/${rg}/providers/Microsoft.Web/sites/${name}`;
  const sync = site("rg-app", "func-contoso-sync");
  const notify = site("rg-app", "func-contoso-notify");
  const children = [
    ...["ftp", "scm"].map((n) => ({
      id: `${sync}/basicPublishingCredentialsPolicies/${n}`,
      name: n,
      type: "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
      properties: { allow: n === "scm" },
    })),
    {
      id: `${sync}/sourcecontrols/web`,
      name: "func-contoso-sync",
      type: "Microsoft.Web/sites/sourcecontrols",
      properties: { repoUrl: "https://github.com/example-org/sync-agent", branch: "main", isManualIntegration: true },
    },
    {
      id: `${sync}/functions/Sync`,
      name: "func-contoso-sync/Sync",
      type: "Microsoft.Web/sites/functions",
      properties: {
        language: "python",
        isDisabled: false,
        invoke_url_template: "https://func-contoso-sync.azurewebsites.net/api/sync",
      },
    },
    {
      id: `${sync}/deployments/d1`,
      name: "func-contoso-sync/d1",
      type: "Microsoft.Web/sites/deployments",
      properties: { status: 4, deployer: "ZipDeploy", active: true, start_time: "2026-11-19T02:40:00Z" },
    },
    {
      id: `${notify}/siteextensions/Contoso.Toolkit`,
      name: "func-contoso-notify/Contoso.Toolkit",
      type: "Microsoft.Web/sites/siteextensions",
      properties: {
        extension_id: "Contoso.Toolkit",
        version: "1.0.0",
        extension_url: "https://feed.example.net/contoso.toolkit.1.0.0.nupkg",
      },
    },
  ];
  let e: RunningEmulator;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    dir = tempDir();
    cpSync(join(PACKAGE_ROOT, "demo/tenant"), dir.dir, { recursive: true });
    dir.write(`functionApps/children-${PROD}.json`, JSON.stringify({ value: children }));
    e = await emulator({ snapshot: dir.dir, timeShift: "none" });
  });
  afterAll(() => dir.cleanup());

  it("the live App Service collector reads them as the records a file of the same bodies gives", async () => {
    const session = {
      ...createSession({
        auth: "cli",
        armEndpoint: e.info.armEndpoint,
        env: { AZURE_AUTHORITY_HOST: e.info.authorityHost },
      }),
      credential: credential(e),
    };
    const c = new AppServiceCollector(session, new LiveScope(session, { subscriptions: [PROD] }), {
      readAppSettings: false,
    });
    const tally = new CoverageTally();
    const items: CollectedItem[] = [];
    for await (const b of c.collect(await c.plan(), { tally, diagnostics: new Diagnostics() })) items.push(...b);
    const live = items.filter((i): i is ArmResource => i.kind === "resource");
    expect(live.map((r) => [r.type, r.id]).sort()).toEqual(children.map((r) => [r.type, r.id]).sort());
    expect(tally.entries()[0]).toMatchObject({ status: "complete", records: 6 + children.length });
    // The same bodies classified from a file: same ids, types and properties.
    const fromFile = children.map((b) => classify(b, { location: "children.json" }));
    for (const [i, r] of fromFile.entries()) {
      expect("records" in r && r.records[0]?.kind).toBe("resource");
      const rec = "records" in r ? (r.records[0] as ArmResource) : undefined;
      const same = live.find((l) => l.id === rec?.id);
      expect(same?.properties, children[i]?.id).toEqual(rec?.properties);
    }
  });
});

describe("throttling and faults", () => {
  it("answers 429 with Retry-After when the read bucket is empty; the SDK waits and succeeds", async () => {
    const e = await emulator({ throttle: { capacity: 2, refillPerSecond: 2 } });
    const c = new WebSiteManagementClient(credential(e), PROD, armOptions(e));
    for (let i = 0; i < 4; i++) await c.webApps.get("rg-app", "func-contoso-sync");
    const reads = e.requests.filter((r) => r.front === "arm");
    const throttled = reads.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(reads.filter((r) => r.status === 200).length).toBe(4);
    const tok = (await credential(e).getToken(ARM_SCOPE))?.token as string;
    let r = await raw(
      `${e.info.armEndpoint}/subscriptions/${PROD}/resourceGroups/rg-app/providers/Microsoft.Web/sites/func-contoso-sync`,
      {
        authorization: `Bearer ${tok}`,
      },
    );
    while (r.status !== 429) {
      expect(r.headers["x-ms-ratelimit-remaining-subscription-reads"]).toMatch(/^\d+$/);
      r = await raw(
        `${e.info.armEndpoint}/subscriptions/${PROD}/resourceGroups/rg-app/providers/Microsoft.Web/sites/func-contoso-sync`,
        {
          authorization: `Bearer ${tok}`,
        },
      );
    }
    expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(r.body).error.code).toBe("SubscriptionRequestsThrottled");
  });

  it("forbidden=<sub>: 403 AuthorizationFailed under it, still listed in GET /subscriptions", async () => {
    const e = await emulator({ faults: [`forbidden=${DEV}`] });
    const subs = await collect(new SubscriptionClient(credential(e), armOptions(e)).subscriptions.list());
    expect(subs.length).toBe(2);
    const c = new AuthorizationManagementClient(credential(e), DEV, armOptions(e));
    const err = await collect(c.roleAssignments.listForSubscription()).catch((x) => x);
    expect(err).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(err.message).toContain(`The client '${e.info.clientId}' with object id '`);
    expect(err.message).toContain("'Microsoft.Authorization/roleAssignments/read' over scope '/subscriptions/");
    expect(
      (
        await collect(
          new AuthorizationManagementClient(credential(e), PROD, armOptions(e)).roleAssignments.listForSubscription(),
        )
      ).length,
    ).toBe(11);
  });

  it("token-expiry=<s>: an expired token gets 401 ExpiredAuthenticationToken; the client re-acquires", async () => {
    const e = await emulator({ faults: ["token-expiry=1"] });
    const cred = credential(e);
    const c = new SubscriptionClient(cred, armOptions(e));
    await collect(c.subscriptions.list());
    const old = e.tokens.issued;
    const first = [...e.tokens.tokens.keys()][0] as string;
    await new Promise((r) => setTimeout(r, 1100));
    const r = await raw(`${e.info.armEndpoint}/subscriptions`, { authorization: `Bearer ${first}` });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).error.code).toBe("ExpiredAuthenticationToken");
    expect(String(r.headers["www-authenticate"])).toContain('error="invalid_token"');
    expect((await collect(c.subscriptions.list())).length).toBe(2);
    expect(e.tokens.issued).toBeGreaterThan(old);
  });

  it("5xx / reset / truncate are drawn from the seed: same seed, same sequence", async () => {
    const seq = async () => {
      const e = await emulator({ faults: ["5xx=0.25", "reset=0.25", "truncate=0.25"], seed: 7 });
      const tok = (await credential(e).getToken(ARM_SCOPE))?.token as string;
      for (let i = 0; i < 16; i++)
        await raw(`${e.info.armEndpoint}/subscriptions`, { authorization: `Bearer ${tok}` }).catch(() => undefined);
      const log = e.requests.filter((r) => r.front === "arm").map((r) => `${r.status}:${r.fault ?? ""}`);
      await e.close();
      return log;
    };
    const a = await seq();
    expect(a).toEqual(await seq());
    expect(a.length).toBe(16);
    expect(a.some((x) => x === "0:reset")).toBe(true);
    expect(a.some((x) => x === "200:truncate")).toBe(true);
    expect(a.some((x) => /^50[03]:5xx$/.test(x))).toBe(true);
  });

  it("the SDK retries through resets and 503s; a truncated body surfaces as an error (not retried)", async () => {
    const e = await emulator({ faults: ["reset=0.3"], seed: 3 });
    const c = new SubscriptionClient(credential(e), armOptions(e));
    for (let i = 0; i < 4; i++) expect((await c.subscriptions.get(PROD)).subscriptionId).toBe(PROD);
    expect(e.requests.some((r) => r.fault === "reset")).toBe(true);
    const t = await emulator({ faults: ["truncate=1"] });
    const ct = new SubscriptionClient(credential(t), armOptions(t));
    await expect(ct.subscriptions.get(PROD)).rejects.toThrow(/aborted/);
  });

  it("gone=<sub>: listed by GET /subscriptions, then 404 SubscriptionNotFound under it", async () => {
    const e = await emulator({ faults: [`gone=${DEV}`] });
    const tok = (await credential(e).getToken(ARM_SCOPE))?.token as string;
    const list = await raw(`${e.info.armEndpoint}/subscriptions`, { authorization: `Bearer ${tok}` });
    expect(JSON.parse(list.body).value.map((s: { subscriptionId: string }) => s.subscriptionId)).toContain(DEV);
    const r = await raw(
      `${e.info.armEndpoint}/subscriptions/${DEV}/providers/Microsoft.Authorization/roleAssignments`,
      {
        authorization: `Bearer ${tok}`,
      },
    );
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error.code).toBe("SubscriptionNotFound");
    expect(e.requests.at(-1)?.fault).toBe("gone");
  });

  it("hang=1 with only=<path part>: that path never answers, the others do", async () => {
    const e = await emulator({ faults: ["hang=1", "only=/roleassignments"] });
    const tok = (await credential(e).getToken(ARM_SCOPE))?.token as string;
    expect((await raw(`${e.info.armEndpoint}/subscriptions`, { authorization: `Bearer ${tok}` })).status).toBe(200);
    const hung = await Promise.race([
      raw(`${e.info.armEndpoint}/subscriptions/${PROD}/providers/Microsoft.Authorization/roleAssignments`, {
        authorization: `Bearer ${tok}`,
      })
        .then(() => "answered")
        .catch(() => "closed"),
      new Promise((r) => setTimeout(() => r("no answer"), 500)),
    ]);
    expect(hung).toBe("no answer");
    expect(e.requests.at(-1)).toMatchObject({ status: 0, fault: "hang" });
  });

  it("token-revoke=<s>: tokens issued before that moment are refused with invalid_token; later ones accepted", async () => {
    const e = await emulator({ faults: ["token-revoke=0.3"] });
    const tok = (await credential(e).getToken(ARM_SCOPE))?.token as string;
    const get = (t: string) => raw(`${e.info.armEndpoint}/subscriptions`, { authorization: `Bearer ${t}` });
    expect((await get(tok)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 350));
    const refused = await get(tok);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe("ExpiredAuthenticationToken");
    expect(String(refused.headers["www-authenticate"])).toContain('error="invalid_token"');
    expect(e.tokens.issue(e.info.clientId, ARM_SCOPE).lifetime).toBe(3600);
    const fresh = [...e.tokens.tokens.keys()].at(-1) as string;
    expect((await get(fresh)).status).toBe(200);
  });

  it("a bad fault spec is one clear error", () => {
    const cfg = emptyFaults();
    expect(() => addFault(cfg, "only=")).toThrow("--fault only=<path part>: the path part is missing");
    expect(() => addFault(cfg, "hang=2")).toThrow("between 0 and 1");
    expect(() => addFault(cfg, "nope=1")).toThrow(/unknown fault .*gone, 5xx, reset, truncate, hang, stall, only/);
  });

  it("slow=<ms> delays each answer", async () => {
    const e = await emulator({ faults: ["slow=150"] });
    const t0 = Date.now();
    const r = await raw(`${e.info.armEndpoint}/subscriptions`);
    expect(r.status).toBe(401);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});

describe("CLI contract", () => {
  it("npm run emulator -- --port 0: one JSON line, a child with NODE_EXTRA_CA_CERTS reads it, SIGTERM exits 0", async () => {
    const child = spawn("npm", ["run", "emulator", "--", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (d: string) => {
        buf += d;
        // Without --silent, npm prints its "> azure-exec-audit@… emulator" banner first.
        const line = buf.split("\n").find((l, i, all) => l.startsWith("{") && i < all.length - 1);
        if (line) resolve(line);
      });
      child.on("exit", (code) => reject(new Error(`emulator exited ${code}`)));
    });
    const info = JSON.parse(line);
    expect(Object.keys(info).sort()).toEqual([
      "armEndpoint",
      "authorityHost",
      "caFile",
      "clientId",
      "clientSecret",
      "logsEndpoint",
      "tenantId",
      "workspaceId",
    ]);
    const script = `
      import { EnvironmentCredential } from "@azure/identity";
      import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
      const c = new SubscriptionClient(new EnvironmentCredential({ disableInstanceDiscovery: true }),
        { endpoint: ${JSON.stringify(info.armEndpoint)}, credentialScopes: ["https://management.azure.com/.default"] });
      const names = []; for await (const s of c.subscriptions.list()) names.push(s.displayName);
      console.log(names.sort().join(","));`;
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ["--input-type=module", "-e", script], {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: info.caFile,
          AZURE_TENANT_ID: info.tenantId,
          AZURE_CLIENT_ID: info.clientId,
          AZURE_CLIENT_SECRET: info.clientSecret,
          AZURE_AUTHORITY_HOST: info.authorityHost,
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let s = "";
      p.stdout.on("data", (d) => {
        s += d;
      });
      p.on("exit", (code) => (code === 0 ? resolve(s.trim()) : reject(new Error(`client exited ${code}`))));
    });
    expect(out).toBe("contoso-dev,contoso-prod");
    const code = await new Promise<number | null>((resolve) => {
      child.on("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
  });
});
