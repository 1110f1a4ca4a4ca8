/**
 * Baseline gating as a user adopts it: scan the estate to a report once, then gate later scans
 * with `--baseline report.json --fail-on high`, through bin/ in a child process.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failingFindings, markBaseline, readBaseline } from "../../src/gate/index.js";
import type { Finding, ScanResult } from "../../src/model/finding.js";
import { UsageError } from "../../src/util/errors.js";
import { runCli, tempDir } from "../helpers.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate parsed reports freely.
type Json = Record<string, any>;

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const cli = (line: string) => runCli(line.split(" "), {}, 150_000, tmp.dir);
const read = (name: string) => JSON.parse(readFileSync(join(tmp.dir, name), "utf8")) as Json;

/** The baseline report without the findings of one rule (by the start of its id). */
function without(rulePrefix: string, name: string): string[] {
  const report = read("report.json");
  const removed = report.findings.filter((f: Json) => f.ruleId.startsWith(rulePrefix)).map((f: Json) => f.id);
  report.findings = report.findings.filter((f: Json) => !f.ruleId.startsWith(rulePrefix));
  writeFileSync(join(tmp.dir, name), JSON.stringify(report));
  return removed;
}

beforeAll(async () => {
  const r = await cli("scan --demo --format json --output report.json");
  expect(r.code).toBe(0);
}, 60_000);

describe("scan --baseline", () => {
  it("every finding in the baseline: --fail-on high passes, and each finding says baseline: true", async () => {
    const r = await cli("scan --demo --baseline report.json --fail-on high");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Json;
    expect(report.findings).toHaveLength(12);
    // A baseline does not touch `status`: that is the state's (the scan above stored these: open).
    expect(report.findings.every((f: Json) => f.baseline === true && f.status === "open")).toBe(true);
  });

  it("a high finding missing from the baseline fails the gate, and only it is new", async () => {
    const removed = without("f4339963", "baseline-without-high.json");
    expect(removed).toHaveLength(1);
    const r = await cli("scan --demo --baseline baseline-without-high.json --fail-on high");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Json;
    expect(report.findings.filter((f: Json) => f.baseline === false).map((f: Json) => f.id)).toEqual(removed);
  });

  it("only findings outside the baseline count: a low one missing fails --fail-on low, not --fail-on high", async () => {
    expect(without("d2160a04", "baseline-without-low.json")).toHaveLength(1);
    expect((await cli("scan --demo --baseline baseline-without-low.json --fail-on high")).code).toBe(0);
    expect((await cli("scan --demo --baseline baseline-without-low.json --fail-on low")).code).toBe(1);
  });

  it("SARIF gives baselineState unchanged / new and validates", async () => {
    const r = await cli("scan --demo --baseline baseline-without-high.json --format sarif --output results.sarif");
    expect(r.code).toBe(0);
    const log = read("results.sarif");
    expect(validateSarif(log), sarifErrors()).toBe(true);
    const states = (log.runs[0].results as Json[]).map((x) => x.baselineState);
    expect(states.filter((s) => s === "new")).toHaveLength(1);
    expect(states.filter((s) => s === "unchanged")).toHaveLength(11);
  });

  it("a file that is not a JSON report of ours is a usage error: exit 3, one sentence", async () => {
    const sarif = await cli("scan --demo --baseline results.sarif --fail-on high");
    expect(sarif.code).toBe(3);
    expect(sarif.stderr).toBe(
      "azure-exec-audit: --baseline results.sarif is not a JSON report of azure-exec-audit (no tool.name 'azure-exec-audit'); pass a report written by 'azure-exec-audit scan --format json'\n",
    );
    tmp.write("old.json", JSON.stringify({ ...read("report.json"), schemaVersion: "1" }));
    const old = await cli("scan --demo --baseline old.json --fail-on high");
    expect(old.code).toBe(3);
    expect(old.stderr).toMatch(/^azure-exec-audit: --baseline old\.json is a report of schema '1'[^\n]*\n$/);
    // Schema 3 only added the `empty` coverage status: a schema-2 report's finding ids still gate.
    tmp.write("v2.json", JSON.stringify({ ...read("report.json"), schemaVersion: "2" }));
    const v2 = await cli("scan --demo --baseline v2.json --fail-on high");
    expect(v2.code).toBe(0);
    tmp.write("table.txt", "SEVERITY  TIME\n");
    const text = await cli("scan --demo --baseline table.txt");
    expect(text.code).toBe(3);
    expect(text.stderr).toMatch(/^azure-exec-audit: --baseline table\.txt is not JSON; [^\n]*\n$/);
    const missing = await cli("scan --demo --baseline nope.json");
    expect(missing.stderr).toBe("azure-exec-audit: --baseline nope.json does not exist\n");
  });
});

describe("the gate", () => {
  const f = (id: string, severity: Finding["severity"], extra: Partial<Finding> = {}): Finding => ({
    id,
    ruleId: "r",
    title: "t",
    severity,
    attack: { tactics: [], techniques: [] },
    resourceId: "/subscriptions/s",
    principal: { id: "p" },
    time: "2026-11-19T00:00:00Z",
    evidence: { kind: "configuration", records: [] },
    ...extra,
  });
  it("counts findings at or above the threshold that are neither suppressed nor in the baseline", () => {
    const findings = [
      f("a", "high"),
      f("b", "critical", { status: "suppressed" }),
      f("c", "critical", { baseline: true }),
      f("d", "medium"),
      f("e", "high", { baseline: false }),
    ];
    expect(failingFindings(findings, "high").map((x) => x.id)).toEqual(["a", "e"]);
  });
  it("markBaseline marks every finding and leaves the input as it was", () => {
    const result = { findings: [f("a", "high"), f("b", "low")] } as ScanResult;
    const marked = markBaseline(result, new Set(["b"]));
    expect(marked.findings.map((x) => x.baseline)).toEqual([false, true]);
    expect(result.findings.every((x) => x.baseline === undefined)).toBe(true);
  });
  it("readBaseline wants findings with ids", () => {
    const file = tmp.write(
      "no-findings.json",
      JSON.stringify({ schemaVersion: "2", tool: { name: "azure-exec-audit" } }),
    );
    expect(() => readBaseline(file)).toThrow(UsageError);
  });
});
