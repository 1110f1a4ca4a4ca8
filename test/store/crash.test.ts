/**
 * Crash safety and the scan lock, through the CLI as child processes: a scan stopped at a named
 * point (AZURE_EXEC_AUDIT_TEST_PAUSE) and killed with SIGKILL leaves the state as it was, holds
 * no lock afterwards, and a re-run gives what an uninterrupted run gives.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_TENANT_DIR, PACKAGE_ROOT } from "../../src/paths.js";
import { kill9, pausedCli, runCli, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const BIN = join(PACKAGE_ROOT, "bin/azure-exec-audit.js");
const CONTAINER_GROUP = "resources/8b1811f6-5813-475a-8054-5d2939bd681f-containerGroups.json";

/** Starts a scan that stops at `point` and resolves once it says so. */

/** Everything a state file says, read through the CLI, plus SQLite's own integrity check. */
async function snapshot(file: string): Promise<unknown> {
  const list = await runCli(["findings", "list", "--state", file, "--format", "json"]);
  expect(list.code, list.stderr).toBe(0);
  const db = new DatabaseSync(file, { readOnly: true });
  const integrity = db.prepare("PRAGMA integrity_check").get();
  const digests = db.prepare("SELECT count(*) AS n FROM digests").get();
  const baselines = db
    .prepare("SELECT tuple, count(*) AS n, min(first) AS a, max(first) AS b FROM baselines GROUP BY tuple")
    .all();
  const history = db.prepare("SELECT * FROM history").all();
  db.close();
  expect(Object.values(integrity ?? {})).toEqual(["ok"]);
  return { list: JSON.parse(list.stdout), digests, baselines, history };
}

interface Report {
  findings: { id: string; status: string }[];
  resolved: { id: string }[];
}

/** The parts of a report that must not depend on a crash before it: ids, statuses, resolved. */
function outcome(file: string): unknown {
  const r = JSON.parse(readFileSync(file, "utf8")) as Report;
  return {
    findings: r.findings.map((f) => `${f.id} ${f.status}`).sort(),
    resolved: r.resolved.map((f) => f.id).sort(),
  };
}

const tenant = join(tmp.dir, "tenant");
const scanArgs = (state: string, out: string) => [
  "scan",
  "--input",
  tenant,
  "--state",
  state,
  "--format",
  "json",
  "-o",
  out,
];

describe("a scan killed with SIGKILL", () => {
  let expected: unknown;
  beforeAll(async () => {
    cpSync(DEMO_TENANT_DIR, tenant, { recursive: true });
    // Uninterrupted: the full tenant, then the tenant without the container group.
    const clean = join(tmp.dir, "clean.db");
    expect((await runCli(scanArgs(clean, join(tmp.dir, "c1.json")))).code).toBe(0);
    rmSync(join(tenant, CONTAINER_GROUP));
    expect((await runCli(scanArgs(clean, join(tmp.dir, "c2.json")))).code).toBe(0);
    expected = outcome(join(tmp.dir, "c2.json"));
    expect((expected as { resolved: string[] }).resolved).toHaveLength(1);
    cpSync(join(DEMO_TENANT_DIR, CONTAINER_GROUP), join(tenant, CONTAINER_GROUP));
  }, 60_000);

  for (const point of ["opened", "applied", "written"]) {
    it(`at "${point}" leaves the state as it was, and a re-run gives the uninterrupted findings`, async () => {
      const state = join(tmp.dir, `${point}.db`);
      cpSync(DEMO_TENANT_DIR, tenant, { recursive: true });
      expect((await runCli(scanArgs(state, join(tmp.dir, `${point}-1.json`)))).code).toBe(0);
      const before = await snapshot(state);
      rmSync(join(tenant, CONTAINER_GROUP));
      await kill9(await pausedCli(scanArgs(state, join(tmp.dir, `${point}-killed.json`)), point));
      expect(await snapshot(state)).toEqual(before);
      const again = join(tmp.dir, `${point}-2.json`);
      const r = await runCli(scanArgs(state, again));
      expect(r.code, r.stderr).toBe(0);
      expect(outcome(again)).toEqual(expected);
      cpSync(join(DEMO_TENANT_DIR, CONTAINER_GROUP), join(tenant, CONTAINER_GROUP));
    }, 60_000);
  }

  it("while reading a large input leaves the state as it was", async () => {
    const input = join(tmp.dir, "big.jsonl");
    execFileSync(process.execPath, [
      join(PACKAGE_ROOT, "bench/generate.mjs"),
      ...["--events", "50000", "--mix", "0.05", "--shape", "export", "--seed", "7", "--out", input],
    ]);
    const state = join(tmp.dir, "big.db");
    const args = (out: string) => ["scan", "--input", input, "--state", state, "--format", "json", "-o", out];
    const t0 = Date.now();
    const first = await runCli(args(join(tmp.dir, "big-1.json")));
    expect(first.code, first.stderr).toBe(0);
    const took = Date.now() - t0;
    const before = await snapshot(state);
    // Killed half way through by the clock (the pause points above cover the exact steps).
    const running = spawn(process.execPath, [BIN, ...args(join(tmp.dir, "big-killed.json"))], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, took / 2));
    await kill9(running);
    expect(await snapshot(state)).toEqual(before);
    const again = await runCli(args(join(tmp.dir, "big-2.json")));
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(tmp.dir, "big-2.json"), "utf8")) as Report;
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.findings.every((f) => f.status === "open")).toBe(true);
  }, 90_000);
});

describe("two scans on one state", () => {
  it("a second scan while one holds the state fails with one sentence (exit 3); the state is intact", async () => {
    const state = join(tmp.dir, "locked.db");
    const holder = await pausedCli(
      ["scan", "--demo", "--state", state, "--format", "json", "-o", "/dev/null"],
      "opened",
    );
    const t0 = Date.now();
    const second = await runCli(["scan", "--demo", "--state", state, "--format", "json", "-o", "/dev/null"]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(
      /^azure-exec-audit: state file .*locked\.db is in use by another scan \(waited 5 s\); let it finish, or pass another --state\n$/,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_500);
    // Reading is not blocked by a scan in progress.
    const list = await runCli(["findings", "list", "--state", state]);
    expect(list.code).toBe(3); // the holder has committed nothing yet: no scan in the state
    expect(list.stderr).toContain("holds no scan yet");
    await kill9(holder);
    const after = await runCli(["scan", "--demo", "--state", state, "--format", "json"]);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as Report).findings.every((f) => f.status === "new")).toBe(true);
    await snapshot(state);
  }, 60_000);

  it("started together, the second waits for the first or fails cleanly; every scan that succeeded is recorded once", async () => {
    const state = join(tmp.dir, "together.db");
    const args = ["scan", "--demo", "--state", state, "--format", "json"];
    const runs = await Promise.all([runCli(args), runCli(args)]);
    for (const r of runs) {
      if (r.code !== 0) expect(r.stderr).toContain("is in use by another scan");
    }
    const ok = runs.filter((r) => r.code === 0);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    const db = new DatabaseSync(state, { readOnly: true });
    expect(Number(db.prepare("SELECT count(*) AS n FROM scans").get()?.n)).toBe(ok.length);
    db.close();
    const statuses = ok.map((r) => new Set((JSON.parse(r.stdout) as Report).findings.map((f) => f.status)));
    // One of them saw an empty state (all new); a second that waited saw the first's findings.
    expect(statuses.map((s) => [...s].join()).sort()).toEqual(ok.length === 2 ? ["new", "open"] : ["new"]);
  }, 60_000);
});
