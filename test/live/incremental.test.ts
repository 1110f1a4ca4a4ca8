/**
 * Incremental scans as a scheduled job runs them: the CLI as a child process against the
 * loopback emulator, on one state file. The first scan reads the window --since names; the next
 * resumes each subscription from its watermark (minus the overlap) and reports nothing new; a
 * subscription that failed is read again from its own, older watermark.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import type { CoverageEntry as Coverage } from "../../src/model/finding.js";
import { runCli, tempDir } from "../helpers.js";

const DEV = "091c6054-988d-4631-9070-418c6f76a5fa";
const PROD = "8b1811f6-5813-475a-8054-5d2939bd681f";
const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Report {
  scan: { complete: boolean; coverage: Coverage[] };
  findings: { id: string; status?: string }[];
  diagnostics: { code: string; message: string }[];
}

const state = join(tmp.dir, "state.db");

async function scan(
  e: RunningEmulator,
  name: string,
  extra: string[] = [],
  file = state,
): Promise<{ code: number; report: Report }> {
  const out = join(tmp.dir, `${name}.json`);
  const r = await runCli(
    [
      "scan",
      "--state",
      file,
      "--all-subscriptions",
      "--arm-endpoint",
      e.info.armEndpoint,
      "--auth",
      "env",
      "--format",
      "json",
      "--output",
      out,
      "--allow-incomplete",
      ...extra,
    ],
    {
      NODE_EXTRA_CA_CERTS: e.info.caFile,
      AZURE_TENANT_ID: e.info.tenantId,
      AZURE_CLIENT_ID: e.info.clientId,
      AZURE_CLIENT_SECRET: e.info.clientSecret,
      AZURE_AUTHORITY_HOST: e.info.authorityHost,
    },
  );
  return { code: r.code ?? -1, report: JSON.parse(readFileSync(out, "utf8")) as Report };
}

const activity = (r: Report, sub: string) =>
  r.scan.coverage.find((c) => c.source === "activity-log" && c.scope === `subscription ${sub}`) as Coverage;
const HOUR = 3_600_000;

describe("incremental scans against the emulated tenant", () => {
  let emu: RunningEmulator;
  const runs: Report[] = [];
  beforeAll(async () => {
    emu = await startEmulator({});
    runs.push((await scan(emu, "s1", ["--since", "30d"])).report);
    runs.push((await scan(emu, "s2")).report);
    await emu.close();
    // One subscription refused for a whole scan, then readable again.
    emu = await startEmulator({ faults: [`forbidden=${DEV}`] });
    runs.push((await scan(emu, "s3")).report);
    await emu.close();
    emu = await startEmulator({});
    runs.push((await scan(emu, "s4")).report);
  }, 240_000);
  afterAll(() => emu.close());

  it("the first scan reads the --since window and finds the attack as new", () => {
    const [first] = runs as [Report];
    expect(first.scan.complete).toBe(true);
    expect(activity(first, PROD).resumedFrom).toBeUndefined();
    expect(activity(first, PROD).records).toBeGreaterThan(100);
    expect(first.findings.length).toBeGreaterThan(5);
    expect(first.findings.every((f) => f.status === "new")).toBe(true);
  });

  it("the second resumes each subscription from its watermark minus the overlap, and reports nothing new", () => {
    const [first, second] = runs as [Report, Report];
    for (const sub of [DEV, PROD]) {
      const c = activity(second, sub);
      expect(c.resumedFrom).toBe(activity(first, sub).to);
      expect(Date.parse(c.from as string)).toBe(Date.parse(c.resumedFrom as string) - HOUR);
      // The demo's events end before the first scan: nothing in the new window is the attack again.
      expect(c.records).toBeLessThan(activity(first, sub).records);
    }
    expect(second.findings.filter((f) => f.status === "new").map((f) => JSON.stringify(f).slice(0, 900))).toEqual([]);
  });

  it("a subscription that failed keeps its watermark and is read again from it", () => {
    const [, second, third, fourth] = runs as [Report, Report, Report, Report];
    expect(activity(third, DEV).status).toBe("failed");
    expect(activity(third, PROD).status).toBe("complete");
    expect(third.scan.complete).toBe(false);
    // PROD resumes where the third scan ended; DEV where the second (its last complete read) did.
    expect(activity(fourth, PROD).resumedFrom).toBe(activity(third, PROD).to);
    expect(activity(fourth, DEV).resumedFrom).toBe(activity(second, DEV).to);
    expect(Date.parse(activity(fourth, DEV).from as string)).toBeLessThan(
      Date.parse(activity(fourth, PROD).from as string),
    );
  });
});

describe("an incremental workspace read", () => {
  it("resumes the workspace from its watermark minus the overlap, and reports nothing new", async () => {
    const emu = await startEmulator({});
    try {
      const ws = ["--workspace", emu.workspaceId, "--logs-endpoint", emu.logsEndpoint];
      const file = join(tmp.dir, "ws.db");
      const first = (await scan(emu, "w1", [...ws, "--since", "30d"], file)).report;
      const second = (await scan(emu, "w2", ws, file)).report;
      const entry = (r: Report) => r.scan.coverage.find((c) => c.source === "workspace") as Coverage;
      expect(entry(first).resumedFrom).toBeUndefined();
      expect(entry(first).records).toBeGreaterThan(100);
      expect(entry(second).resumedFrom).toBe(entry(first).to);
      expect(Date.parse(entry(second).from as string)).toBe(Date.parse(entry(first).to as string) - HOUR);
      expect(second.findings.filter((f) => f.status === "new").map((f) => f.id)).toEqual([]);
    } finally {
      await emu.close();
    }
  }, 120_000);
});
