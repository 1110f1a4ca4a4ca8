/**
 * The findings lifecycle as a user meets it: the demo tenant scanned three times through the CLI
 * (a child process) on one temporary state file, the third time after the malicious container
 * group is gone from the snapshot.
 */
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runCli, tempDir } from "../helpers.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const tenant = join(tmp.dir, "tenant");
const state = join(tmp.dir, "state", "state.db");
/** The attack's container group (demo/README.md: the miner image run as a container group). */
const CONTAINER_GROUP = "resources/8b1811f6-5813-475a-8054-5d2939bd681f-containerGroups.json";
const CG_ID =
  "/subscriptions/8b1811f6-5813-475a-8054-5d2939bd681f/resourceGroups/rg-app/providers/Microsoft.ContainerInstance/containerGroups/cg-updater";

interface Report {
  scan: { id: string; startedAt: string; previousScanId?: string; complete: boolean };
  findings: { id: string; title: string; status?: string; firstSeen?: string; resourceId: string }[];
  resolved?: { id: string; title: string; resourceId: string; firstSeen: string; lastSeen: string }[];
}

async function scan(n: number, ...extra: string[]): Promise<Report> {
  const out = join(tmp.dir, `r${n}.json`);
  const r = await runCli(["scan", "--input", tenant, "--state", state, "--format", "json", "-o", out, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, "utf8")) as Report;
}

describe("three scans of the demo on one state", () => {
  const reports: Report[] = [];
  beforeAll(async () => {
    cpSync(DEMO_TENANT_DIR, tenant, { recursive: true });
    reports.push(await scan(1));
    reports.push(await scan(2));
    rmSync(join(tenant, CONTAINER_GROUP));
    reports.push(await scan(3));
  }, 120_000);

  it("first scan: every finding is new, first seen now; nothing resolved", () => {
    const [first] = reports as [Report];
    expect(first.findings.length).toBeGreaterThan(5);
    for (const f of first.findings) {
      expect(f.status).toBe("new");
      expect(f.firstSeen).toBe(first.scan.startedAt);
    }
    expect(first.resolved).toEqual([]);
    expect(first.scan.previousScanId).toBeUndefined();
  });

  it("second scan: nothing new, the same ids open, first seen kept", () => {
    const [first, second] = reports as [Report, Report];
    expect(second.findings.map((f) => f.id).sort()).toEqual(first.findings.map((f) => f.id).sort());
    for (const f of second.findings) {
      expect(f.status).toBe("open");
      expect(f.firstSeen).toBe(first.scan.startedAt);
    }
    expect(second.resolved).toEqual([]);
    expect(second.scan.previousScanId).toBe(first.scan.id);
  });

  it("third scan: the container group's chain is resolved, the rest stay open", () => {
    const [first, second, third] = reports as [Report, Report, Report];
    const gone = second.findings.filter((f) => !third.findings.some((g) => g.id === f.id));
    expect(gone.map((f) => f.title)).toEqual([
      "Image imported into a registry, then run as a container within 24 hours",
    ]);
    expect(third.resolved?.map((r) => r.id)).toEqual(gone.map((f) => f.id));
    const [resolved] = third.resolved ?? [];
    expect(resolved?.resourceId).toBe(CG_ID);
    expect(resolved?.firstSeen).toBe(first.scan.startedAt);
    expect(resolved?.lastSeen).toBe(second.scan.startedAt);
    for (const f of third.findings) expect(f.status).toBe("open");
    expect(third.findings.length).toBe(second.findings.length - 1);
  });

  it("findings list and findings diff read the same story back", async () => {
    const list = await runCli(["findings", "list", "--state", state, "--format", "json"]);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { findings: { id: string; status: string; firstScanId: string }[] };
    const third = reports[2] as Report;
    expect(listed.findings.filter((f) => f.status === "resolved").map((f) => f.id)).toEqual(
      third.resolved?.map((r) => r.id),
    );
    expect(listed.findings.filter((f) => f.status === "open").length).toBe(third.findings.length);
    expect(listed.findings.every((f) => f.firstScanId === reports[0]?.scan.id)).toBe(true);

    const open = await runCli(["findings", "list", "--state", state, "--status", "resolved"]);
    expect(open.code).toBe(0);
    expect(open.stdout).toMatch(/^STATUS\s+SEVERITY/);
    expect(open.stdout.trim().split("\n")).toHaveLength(2);
    expect(open.stdout).toContain("resolved");

    const diff = await runCli(["findings", "diff", "--state", state, "--format", "json"]);
    expect(diff.code, diff.stderr).toBe(0);
    const d = JSON.parse(diff.stdout) as {
      from: { id: string };
      to: { id: string };
      added: unknown[];
      resolved: { id: string }[];
      notSeen: unknown[];
      unchanged: number;
    };
    expect(d.from.id).toBe(reports[1]?.scan.id);
    expect(d.to.id).toBe(third.scan.id);
    expect(d.added).toEqual([]);
    expect(d.resolved.map((r) => r.id)).toEqual(third.resolved?.map((r) => r.id));
    expect(d.unchanged).toBe(third.findings.length);

    // Against the first scan: the same, and --since takes the id the report printed.
    const since = await runCli(["findings", "diff", "--state", state, "--since", reports[0]?.scan.id ?? ""]);
    expect(since.code, since.stderr).toBe(0);
    expect(since.stdout).toContain(`0 new, 1 resolved, 0 not seen`);
    const unknown = await runCli(["findings", "diff", "--state", state, "--since", "no-such-scan"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("no scan 'no-such-scan'");
  });
});

describe("reports with state", () => {
  it("SARIF carries baselineState (new, then unchanged) and validates against the 2.1.0 schema", async () => {
    const file = join(tmp.dir, "sarif", "state.db");
    const logs = [];
    for (const n of [1, 2]) {
      const out = join(tmp.dir, `s${n}.sarif`);
      const r = await runCli(["scan", "--demo", "--state", file, "--format", "sarif", "-o", out]);
      expect(r.code, r.stderr).toBe(0);
      const log = JSON.parse(readFileSync(out, "utf8"));
      expect(validateSarif(log), sarifErrors()).toBe(true);
      logs.push(log);
    }
    const states = (log: { runs: { results: { baselineState?: string }[] }[] }) =>
      new Set(log.runs[0]?.results.map((r) => r.baselineState));
    expect(states(logs[0])).toEqual(new Set(["new"]));
    expect(states(logs[1])).toEqual(new Set(["unchanged"]));
  });

  it("the table marks new findings and counts what was resolved", async () => {
    const file = join(tmp.dir, "table", "state.db");
    const first = await runCli(["scan", "--demo", "--state", file, "--format", "table"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/· \d+ new, 0 resolved since no earlier scan/);
    expect(first.stdout).toContain("  NEW ");
    const second = await runCli(["scan", "--demo", "--state", file, "--format", "table"]);
    expect(second.stdout).toContain("· 0 new, 0 resolved since the last scan");
    expect(second.stdout).not.toContain("  NEW ");
  });

  it("without state the report has no status, firstSeen or resolved", async () => {
    const r = await runCli(["scan", "--demo", "--no-state", "--format", "json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(Object.keys(report)).toEqual(["schemaVersion", "tool", "scan", "findings"]);
    expect(report.findings.some((f) => "status" in f || "firstSeen" in f)).toBe(false);
  });
});
