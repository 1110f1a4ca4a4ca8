/** The CLI contract: formats, exit codes 0/1/2/3, one-sentence errors, help and version. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { layerBytes } from "../src/cli/live.js";
import { EXIT, main } from "../src/cli/main.js";
import { PACKAGE_ROOT } from "../src/paths.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false });
  return { code, stdout, stderr };
}

const benign = (i: number) =>
  JSON.stringify({
    time: `2026-11-0${1 + (i % 9)}T09:00:00Z`,
    resourceId: "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
    operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION",
    category: "Administrative",
    resultType: "Success",
    correlationId: `c${i}`,
  });
const runCommand = JSON.stringify({
  time: "2026-11-05T10:00:00Z",
  resourceId: "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
  operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
  category: "Administrative",
  resultType: "Start",
  correlationId: "rc1",
});
const quiet = tmp.write("quiet.jsonl", [1, 2, 3].map(benign).join("\n"));
const medium = tmp.write("medium.jsonl", [benign(1), runCommand].join("\n"));
const truncated = tmp.write("cut.jsonl", `${runCommand}\n${benign(2).slice(0, 30)}`);

describe("exit codes", () => {
  it("0: complete scan, nothing at or above --fail-on", async () => {
    expect((await run("scan", "--no-state", "--input", quiet, "--fail-on", "low")).code).toBe(EXIT.ok);
    expect((await run("scan", "--no-state", "--input", medium, "--fail-on", "high")).code).toBe(EXIT.ok);
  });
  it("0 without --fail-on even when there are findings", async () => {
    const r = await run("scan", "--no-state", "--input", medium);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout).findings).toHaveLength(1);
  });
  it("1: a finding at or above --fail-on", async () => {
    expect((await run("scan", "--no-state", "--input", medium, "--fail-on", "medium")).code).toBe(EXIT.findings);
    expect((await run("scan", "--no-state", "--input", medium, "--fail-on", "informational")).code).toBe(EXIT.findings);
  });
  it("2: an unreadable record makes the scan incomplete; --allow-incomplete accepts it", async () => {
    const r = await run("scan", "--no-state", "--input", truncated, "--fail-on", "critical");
    expect(r.code).toBe(EXIT.incomplete);
    const report = JSON.parse(r.stdout);
    expect(report.scan.complete).toBe(false);
    expect(report.scan.coverage[0]).toMatchObject({ status: "partial", records: 1 });
    expect(report.findings).toHaveLength(1); // what could be read is still reported
    expect(r.stderr).toContain("cut.jsonl:2");
    expect(
      (await run("scan", "--no-state", "--input", truncated, "--fail-on", "critical", "--allow-incomplete")).code,
    ).toBe(EXIT.ok);
    expect(
      (await run("scan", "--no-state", "--input", truncated, "--fail-on", "medium", "--allow-incomplete")).code,
    ).toBe(EXIT.findings);
  });
  it.each([
    [["scan", "--no-state", "--input", join(tmp.dir, "missing.json")], /input path does not exist/],
    [["scan"], /nothing to scan/],
    [["scan", "--no-state", "--demo", "--input", quiet], /either --demo or --input/],
    [["scan", "--no-state", "--input", quiet, "--format", "pdf"], /invalid|pdf/],
    [["scan", "--no-state", "--input", quiet, "--fail-on", "severe"], /invalid|severe/],
    [["scan", "--no-state", "--input", quiet, "--rules", join(tmp.dir, "no-rules")], /rules directory does not exist/],
    [["scna"], /unknown command/],
    [
      ["scan", "--no-state", "--subscription", "s1", "--max-layer-bytes", "4GB"],
      /--max-layer-bytes takes a size up to 64MiB/,
    ],
    [
      ["scan", "--no-state", "--subscription", "s1", "--max-layer-bytes", "65MiB"],
      /--max-layer-bytes takes a size up to 64MiB/,
    ],
  ])("3: %j", async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("--max-layer-bytes", () => {
  it("takes bytes, KiB or MiB", () => {
    expect(layerBytes("0")).toBe(0);
    expect(layerBytes("4096")).toBe(4096);
    expect(layerBytes("512KiB")).toBe(512 * 1024);
    expect(layerBytes("4MiB")).toBe(4 * 1024 * 1024);
    expect(layerBytes(" 2 mb ")).toBe(2 * 1024 * 1024);
    expect(() => layerBytes("-1")).toThrow(/--max-layer-bytes/);
  });
});

describe("output", () => {
  it("writes the report to --output and nothing to stdout", async () => {
    const out = join(tmp.dir, "report.sarif");
    const r = await run("scan", "--no-state", "--input", medium, "--format", "sarif", "--output", out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(existsSync(out)).toBe(true);
  });
  it("--help shows examples and exit codes; --version the package version", async () => {
    const help = await run("scan", "--no-state", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("azure-exec-audit scan --demo");
    expect(help.stdout).toContain("Exit codes");
    const v = await run("--version");
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it("a broken user rule is reported with file and line and the others still run", async () => {
    tmp.write(
      "rules/broken.yml",
      "title: broken\nid: 00000000-0000-4000-8000-000000000000\nlevel: high\nlogsource: { product: azure, service: activitylogs }\ndetection:\n  sel:\n    operationName|sometimes: x\n  condition: sel\n",
    );
    const r = await run("scan", "--no-state", "--input", medium, "--rules", join(tmp.dir, "rules"));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/broken\.yml:7: field 'operationName': unknown modifier 'sometimes'/);
    expect(JSON.parse(r.stdout).findings).toHaveLength(1);
  });
});

describe("installed binary", () => {
  const bin = join(PACKAGE_ROOT, "bin", "azure-exec-audit.js");
  // `npm test` builds dist/ first (pretest), as `npm install` does through `prepare`.
  it("runs the demo through bin/ with exit 1 for --fail-on high", async () => {
    const err = await promisify(execFile)(
      process.execPath,
      [bin, "scan", "--no-state", "--demo", "--format", "json", "--fail-on", "high"],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch((e: { code: number; stdout: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect(JSON.parse((err as { stdout: string }).stdout).findings.length).toBeGreaterThan(0);
  });
});

describe("inputs as users have them", () => {
  const bin = join(PACKAGE_ROOT, "bin", "azure-exec-audit.js");
  const scanBin = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [bin, "scan", "--no-state", "--format", "json", ...args],
        (e, stdout, stderr) => resolve({ code: (e as { code?: number } | null)?.code ?? 0, stdout, stderr }),
      );
      child.stdin?.end(input ?? "");
    });

  it("--input - reads standard input", async () => {
    const r = await scanBin(["--input", "-", "--fail-on", "medium"], `${benign(1)}\n${runCommand}\n`);
    expect(r.code).toBe(EXIT.findings);
    const report = JSON.parse(r.stdout);
    expect(report.findings).toHaveLength(1);
    expect(report.scan.coverage[0]).toMatchObject({ scope: "stdin", status: "complete", records: 2 });
  });

  it("a file in a directory that is not JSON makes the scan incomplete unless --exclude names it", async () => {
    tmp.write("withcsv/events.jsonl", `${benign(1)}\n${runCommand}\n`);
    tmp.write("withcsv/export.csv", "TimeGenerated,OperationName\n");
    const dir = join(tmp.dir, "withcsv");
    const partial = await run("scan", "--no-state", "--input", dir);
    expect(partial.code).toBe(EXIT.incomplete);
    expect(JSON.parse(partial.stdout).scan.coverage[0].reason).toMatch(/export\.csv was not read/);
    const excluded = await run("scan", "--no-state", "--input", dir, "--exclude", "*.csv");
    expect(excluded.code).toBe(EXIT.ok);
    expect(JSON.parse(excluded.stdout).scan.coverage[0]).toMatchObject({ status: "complete", records: 2 });
  });
});

describe("rules commands", () => {
  const good = `title: Run command by anyone
id: 66666666-6666-4666-8666-666666666666
status: experimental
description: test rule
tags: [attack.execution, attack.t1651]
falsepositives: [none]
level: medium
logsource: { product: azure, service: activitylogs }
detection:
  s:
    operationName: Microsoft.Compute/virtualMachines/runCommand/action
  condition: s
`;
  const cases = (matchOp: string) => `match:
  - name: run command
    records:
      - { time: "2026-11-02T10:00:00Z", operationName: ${matchOp}, resourceId: /SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1, category: Administrative, resultType: Start }
nomatch:
  - name: restart
    records:
      - { time: "2026-11-02T10:00:00Z", operationName: MICROSOFT.COMPUTE/VIRTUALMACHINES/RESTART/ACTION, resourceId: /SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1, category: Administrative, resultType: Start }
`;
  it("rules test passes a user directory whose cases hold, and exits 1 when one does not", async () => {
    tmp.write("user-ok/rc.yml", good);
    tmp.write("user-ok/rc.tests.yml", cases("MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION"));
    const ok = await run("rules", "test", join(tmp.dir, "user-ok"));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("2 passed, 0 failed");
    tmp.write("user-bad/rc.yml", good);
    tmp.write("user-bad/rc.tests.yml", cases("MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION"));
    const bad = await run("rules", "test", join(tmp.dir, "user-bad"));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL .*rc\.yml: match "run command": expected a finding, got none/);
    expect(bad.stdout).toContain("1 passed, 1 failed");
  });
  it("rules lint names file, line and problem, and exits 1", async () => {
    tmp.write(
      "user-lint/old.yml",
      good.replace("attack.t1651", "attack.t1204.004").replace(/^falsepositives.*\n/m, ""),
    );
    const r = await run("rules", "lint", join(tmp.dir, "user-lint"));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/old\.yml:1: Run command by anyone: T1204\.004 is Malicious Copy and Paste/);
    expect(r.stdout).toMatch(/needs 'falsepositives'/);
    expect(r.stdout).toMatch(/has no tests file/);
  });
  it("rules list prints the built-in pack, as a table or JSON", async () => {
    const t = await run("rules", "list");
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/\d+ rules \(\d+ correlations\)/);
    const j = JSON.parse((await run("rules", "list", "--format", "json")).stdout) as { id: string; kind: string }[];
    expect(j.length).toBeGreaterThan(50);
    expect(j.some((r) => r.kind === "correlation")).toBe(true);
  });
  it("rules coverage prints the vector table", async () => {
    const r = await run("rules", "coverage");
    expect(r.stdout).toContain("| 1 | VM Run Command");
  });
});
