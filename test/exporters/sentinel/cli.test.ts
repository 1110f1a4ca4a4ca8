import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../../src/paths.js";
import { kill9, pausedCli, runCli, tempDir } from "../../helpers.js";
import { type FakeIngestion, RULE_ID, startFakeIngestion, TENANT } from "./fake-ingestion.js";

const _BIN = join(PACKAGE_ROOT, "bin/azure-exec-audit.js");
const tmp = tempDir();
let fake: FakeIngestion;

beforeAll(async () => {
  fake = await startFakeIngestion();
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});
beforeEach(() => {
  fake.calls.length = 0;
  fake.respond = () => undefined;
});

const sentinelFlags = () => ["--sentinel-endpoint", fake.url, "--sentinel-rule-id", RULE_ID, "--auth", "env"];
let n = 0;
const fresh = (name: string) => join(tmp.dir, `${name}-${n++}`);

interface Report {
  scan: { id: string };
  findings: { id: string; ruleId: string; status?: string }[];
}

async function demoScan(state: string | false, extra: string[] = []) {
  const out = `${fresh("report")}.json`;
  const r = await runCli(
    [
      "scan",
      "--demo",
      ...(state === false ? ["--no-state"] : ["--state", state]),
      "--format",
      "json",
      "--output",
      out,
      ...sentinelFlags(),
      ...extra,
    ],
    fake.env(),
  );
  let report: Report | undefined;
  try {
    report = JSON.parse(readFileSync(out, "utf8")) as Report;
  } catch {
    report = undefined;
  }
  return { ...r, report };
}

function outboxRows(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  const row = db.prepare("SELECT count(*) AS n FROM outbox").get();
  db.close();
  return Number(row?.n);
}

/** FindingId + ScanId of every accepted row, counted. */
function acceptedCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of fake.accepted()) {
    const k = `${r.FindingId} ${r.ScanId}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe("scan --sentinel-* (acceptance)", () => {
  it("delivers every finding exactly once per scan while the endpoint throttles and fails a call", async () => {
    const state = `${fresh("state")}.db`;
    // The first call is throttled (429, Retry-After), the next one fails (400: the SDK does not
    // retry it); the rows stay in the outbox and the flush's second pass delivers them.
    fake.respond = (c) =>
      c.n === 0 ? { status: 429, headers: { "Retry-After": "1" } } : c.n === 1 ? { status: 400 } : undefined;
    const first = await demoScan(state);
    expect(first.code, first.stderr).toBe(0);
    const report = first.report as Report;
    expect(report.findings.length).toBeGreaterThan(5);
    expect(fake.calls.map((c) => c.status).slice(0, 3)).toEqual([429, 400, 204]);
    const counts = acceptedCounts();
    expect([...counts.keys()].sort()).toEqual(report.findings.map((f) => `${f.id} ${report.scan.id}`).sort());
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    for (const r of fake.accepted()) {
      expect(r.AADTenantId).toBe(TENANT);
      expect(r.Status).toBe("new");
    }
    expect(outboxRows(state)).toBe(0);

    // A second scan of the same state: its own rows (status open), each once, under its own ScanId.
    fake.calls.length = 0;
    const second = await demoScan(state);
    expect(second.code, second.stderr).toBe(0);
    const r2 = second.report as Report;
    expect(r2.scan.id).not.toBe(report.scan.id);
    const again = acceptedCounts();
    expect([...again.keys()].sort()).toEqual(r2.findings.map((f) => `${f.id} ${r2.scan.id}`).sort());
    expect([...again.values()].every((c) => c === 1)).toBe(true);
    expect(fake.accepted().every((r) => r.Status === "open")).toBe(true);
  }, 120_000);
});

describe("a crash between send and acknowledgement", () => {
  it("re-sends the same rows (same FindingId and ScanId) on the next flush: at least once", async () => {
    const state = `${fresh("state")}.db`;
    const child = await pausedCli(
      ["scan", "--demo", "--state", state, "--format", "json", "--output", `${fresh("r")}.json`, ...sentinelFlags()],
      "sent",
      fake.env(),
    );
    await kill9(child);
    const sent = fake.accepted().map((r) => `${r.FindingId} ${r.ScanId}`);
    expect(sent.length).toBeGreaterThan(5);
    // The scan itself committed before the export: its findings and rows are in the state.
    expect(outboxRows(state)).toBe(sent.length);

    fake.calls.length = 0;
    const flush = await runCli(["export", "sentinel", "--state", state, ...sentinelFlags()], fake.env());
    expect(flush.code, flush.stderr).toBe(0);
    expect(flush.stdout).toContain(`delivered ${sent.length} row(s) to AzureExecAudit_CL; 0 wait`);
    expect(fake.accepted().map((r) => `${r.FindingId} ${r.ScanId}`)).toEqual(sent);
    expect(outboxRows(state)).toBe(0);
    // Nothing left: no sign-in needed, even with a credential that would fail.
    const empty = await runCli(["export", "sentinel", "--state", state, ...sentinelFlags()], {
      ...fake.env(),
      AZURE_CLIENT_SECRET: "wrong",
    });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain("nothing waits in the outbox");
  }, 120_000);
});

describe("failures are not silent", () => {
  it("exits 2 and names what waits in the outbox; export sentinel delivers it later", async () => {
    const state = `${fresh("state")}.db`;
    fake.respond = () => ({ status: 403 });
    const scan = await demoScan(state);
    expect(scan.code).toBe(2);
    const waiting = (scan.report as Report).findings.length;
    expect(scan.stderr).toContain(`${waiting} row(s) for AzureExecAudit_CL were not delivered and wait in the outbox`);
    expect(scan.stderr).toContain("HTTP 403");
    expect(scan.stderr).toContain("export sentinel --state");
    expect(outboxRows(state)).toBe(waiting);

    const still = await runCli(["export", "sentinel", "--state", state, ...sentinelFlags()], fake.env());
    expect(still.code).toBe(2);
    expect(still.stdout).toContain(`delivered 0 row(s) to AzureExecAudit_CL; ${waiting} wait`);

    fake.calls.length = 0;
    fake.respond = () => undefined;
    // The target from the environment this time (AZURE_EXEC_AUDIT_SENTINEL_*).
    const later = await runCli(["export", "sentinel", "--state", state, "--auth", "env"], {
      ...fake.env(),
      AZURE_EXEC_AUDIT_SENTINEL_ENDPOINT: fake.url,
      AZURE_EXEC_AUDIT_SENTINEL_RULE_ID: RULE_ID,
    });
    expect(later.code, later.stderr).toBe(0);
    expect(fake.accepted()).toHaveLength(waiting);
    expect(outboxRows(state)).toBe(0);
  }, 120_000);

  it("--no-state sends directly; what fails is reported as not kept, exit 2", async () => {
    const ok = await demoScan(false);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fake.accepted()).toHaveLength((ok.report as Report).findings.length);
    fake.calls.length = 0;
    fake.respond = () => ({ status: 400 });
    const bad = await demoScan(false);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/row\(s\) for AzureExecAudit_CL were not delivered \(HTTP 400: .*\) and are not kept/);
  }, 120_000);

  it("a half-configured export or a credential that cannot sign in is exit 3 before the scan", async () => {
    const half = await runCli(["scan", "--demo", "--no-state", "--sentinel-endpoint", fake.url], fake.env());
    expect(half.code).toBe(3);
    expect(half.stderr).toContain("needs both --sentinel-endpoint");
    const http = await runCli(
      ["scan", "--demo", "--no-state", "--sentinel-endpoint", "http://127.0.0.1:1", "--sentinel-rule-id", RULE_ID],
      fake.env(),
    );
    expect(http.code).toBe(3);
    expect(http.stderr).toContain("--sentinel-endpoint must be an https:// URL");
    const wrong = await runCli(["scan", "--demo", "--no-state", ...sentinelFlags()], {
      ...fake.env(),
      AZURE_CLIENT_SECRET: "wrong",
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("could not sign in with EnvironmentCredential for the Sentinel export");
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
