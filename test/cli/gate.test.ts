/**
 * The gate says why, and fails closed: one stderr line on every non-zero exit, an empty export
 * is `empty` (exit 2 unless --allow-empty), an unreadable directory is a partial input with the
 * report still written. Several reports per run; choices in any case; conflicting repeats refused;
 * --severity; --enable/--disable; a user rule replacing a built-in one.
 */
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT, main } from "../../src/cli/main.js";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { CAN_RUN_AS_NOBODY, runCliAsNobody, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => {
  if (existsSync(join(tmp.dir, "tree/locked"))) chmodSync(join(tmp.dir, "tree/locked"), 0o755);
  tmp.cleanup();
});

async function run(argv: string[], env: NodeJS.ProcessEnv = {}, tty = false) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    isTTY: tty,
    env,
  });
  return { code, stdout, stderr };
}
const demo = (...rest: string[]) => ["scan", "--no-state", "--demo", ...rest];
type Report = {
  scan: {
    complete: boolean;
    coverage: { status: string; records: number; reason?: string }[];
    diagnostics?: { code: string; message: string }[];
  };
  findings: { ruleId: string; severity: string; title: string }[];
};
const readReport = (p: string): Report => JSON.parse(readFileSync(p, "utf8")) as Report;

describe("every non-zero exit says why on stderr, in one line", () => {
  it("1: the failing findings by severity, and where the report is", async () => {
    const out = join(tmp.dir, "results.sarif");
    const r = await run(demo("--format", "sarif", "--output", out, "--fail-on", "high"));
    expect(r.code).toBe(EXIT.findings);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`azure-exec-audit: 7 findings at or above high (2 critical, 5 high): see ${out}\n`);
  });

  it("2: an empty export is empty, not complete, even for --fail-on informational; --allow-empty accepts it", async () => {
    for (const [name, text] of [
      ["empty.json", ""],
      ["array.json", "[]"],
      ["lines.jsonl", "\n\n"],
    ] as const) {
      const file = tmp.write(name, text);
      const r = await run(["scan", "--no-state", "--input", file, "--format", "json", "--fail-on", "informational"]);
      expect(r.code, name).toBe(EXIT.incomplete);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.scan.complete).toBe(false);
      expect(report.scan.coverage[0]).toMatchObject({ status: "empty", records: 0, reason: "no records read" });
      expect(r.stderr).toMatch(
        /^azure-exec-audit: scan incomplete: no records were read from files .*--allow-empty[^\n]*\n$/,
      );
      const allowed = await run(["scan", "--no-state", "--input", file, "--format", "json", "--allow-empty"]);
      expect(allowed.code, name).toBe(EXIT.ok);
      expect(allowed.stderr).toBe("");
    }
  });
});

describe("an unreadable directory", () => {
  // root reads any directory whatever its mode, so the scan runs as nobody (setpriv drops to it).
  it.runIf(CAN_RUN_AS_NOBODY)("is a failed part of a partial input, and the report is written (run as nobody)", () => {
    chmodSync(tmp.dir, 0o777);
    tmp.write(
      "tree/ok.jsonl",
      JSON.stringify({
        time: "2026-11-05T10:00:00Z",
        resourceId: "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
        operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
        category: "Administrative",
        resultType: "Start",
        correlationId: "rc1",
      }),
    );
    tmp.write("tree/locked/hidden.json", "[]");
    for (const d of ["tree"]) chmodSync(join(tmp.dir, d), 0o755);
    chmodSync(join(tmp.dir, "tree/ok.jsonl"), 0o644);
    chmodSync(join(tmp.dir, "tree/locked"), 0o000);
    const nobody = (...args: string[]) => runCliAsNobody(args, tmp.dir);
    const out = join(tmp.dir, "partial.json");
    const r = nobody(
      "scan",
      "--no-state",
      "--input",
      "tree",
      "--format",
      "json",
      "--output",
      out,
      "--allow-incomplete",
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(EXIT.ok);
    const report = readReport(out);
    expect(report.scan.coverage[0]).toMatchObject({ status: "partial", records: 1 });
    expect(report.scan.coverage[0]?.reason).toContain("locked/ directory could not be read (EACCES)");
    expect(report.findings.length).toBe(1);
    const gate = nobody("scan", "--no-state", "--input", "tree", "--format", "json", "--output", out);
    expect(gate.status).toBe(EXIT.incomplete);
    expect(gate.stderr).toContain("partial read of tree");
    expect(existsSync(out)).toBe(true);
  });
});

describe("several reports per run", () => {
  it("the --format report on stdout, and one file per --output FORMAT=PATH, directories created", async () => {
    const json = join(tmp.dir, "reports/deep/report.json");
    const sarif = join(tmp.dir, "reports/results.sarif");
    const r = await run(
      demo("--format", "table", "--output", `json=${json}`, "--output", `SARIF=${sarif}`, "--fail-on", "high"),
    );
    expect(r.code).toBe(EXIT.findings);
    expect(r.stdout).toContain("SEVERITY");
    expect(readReport(json).findings).toHaveLength(12);
    expect(JSON.parse(readFileSync(sarif, "utf8")).version).toBe("2.1.0");
    expect(r.stderr).toBe(
      `azure-exec-audit: 7 findings at or above high (2 critical, 5 high): see ${json}, ${sarif}\n`,
    );
  });

  it("only FORMAT=PATH reports and no terminal: nothing on stdout", async () => {
    const r = await run(demo("--output", `json=${join(tmp.dir, "only.json")}`));
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe("");
  });

  it("output.reports in the config file; --sarif-artifact-uri reaches the SARIF report among several", async () => {
    const dir = join(tmp.dir, "cfg");
    tmp.write(
      "cfg/azure-exec-audit.yaml",
      "state: false\noutput:\n  format: JSON\n  reports:\n    sarif: out/r.sarif\n",
    );
    const r = await run([
      "scan",
      "--demo",
      "--config",
      join(dir, "azure-exec-audit.yaml"),
      "--sarif-artifact-uri",
      "infra/x.yml",
    ]);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout).findings).toHaveLength(12);
    expect(readFileSync(join(dir, "out/r.sarif"), "utf8")).toContain("infra/x.yml");
  });
});

describe("choices", () => {
  it("take any case: --fail-on HIGH --format SARIF, config failOn: HIGH", async () => {
    const r = await run(demo("--format", "SARIF", "--fail-on", "HIGH"));
    expect(r.code).toBe(EXIT.findings);
    expect(JSON.parse(r.stdout).version).toBe("2.1.0");
    const env = await run(demo("--format", "json"), { AZURE_EXEC_AUDIT_FAIL_ON: "High" });
    expect(env.code).toBe(EXIT.findings);
  });

  it.each([
    [["--format", "json", "--format", "sarif"], /already given as 'json'/],
    [["--fail-on", "high", "--fail-on", "low"], /already given as 'high'/],
    [["--output", "a.json", "--output", "b.json"], /--output is given 2 times/],
    [["--output", "json=x.out", "--output", "sarif=x.out"], /named for two reports/],
    [["--severity", "severe"], /unknown --severity 'severe'/],
    [["--disable", "no-such-rule"], /--disable 'no-such-rule' matches no loaded rule/],
  ])("a conflicting or unknown value is a usage error: %j", async (args, message) => {
    const r = await run(
      demo(
        ...args.map((a) => (a.includes(".") && !a.startsWith("-") ? a.replace(/([^=]+)$/, join(tmp.dir, "$1")) : a)),
      ),
    );
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(message);
  });

  it("the same value twice is no conflict", async () => {
    expect((await run(demo("--format", "json", "--format", "JSON"))).code).toBe(EXIT.ok);
  });
});

describe("choosing rules and severities", () => {
  const MRC = "d0022f8a-1487-486c-8691-702cd3532865"; // Managed Run Command created or updated on a VM
  it("--severity reports and gates only those severities, and says what it left out", async () => {
    const r = await run(demo("--format", "json", "--severity", "critical", "--fail-on", "low"));
    const report = JSON.parse(r.stdout) as Report;
    expect(report.findings.map((f) => f.severity)).toEqual(["critical", "critical"]);
    expect(report.scan.diagnostics?.find((d) => d.code === "report/severity-filtered")?.message).toBe(
      "10 finding(s) of other severities than critical are not reported (--severity)",
    );
    expect(r.stderr).toMatch(/2 findings at or above low \(2 critical\)/);
  });

  it("--disable by id, level or tag; --enable by id; each says what it turned off", async () => {
    const ids = async (...args: string[]) =>
      (JSON.parse((await run(demo("--format", "json", ...args))).stdout) as Report).findings.map((f) => f.ruleId);
    const all = await ids();
    const noMrc = await ids("--disable", MRC);
    expect(all).toContain(MRC);
    expect(noMrc).not.toContain(MRC);
    // The chain that reads its operations still runs: a disabled step feeds it as a private rule.
    expect(noMrc).toContain("0d3ab25c-d946-4f4b-b911-ba443af9d210");
    expect(noMrc).toHaveLength(all.length - 1);
    const noLow = (JSON.parse((await run(demo("--format", "json", "--disable", "LOW"))).stdout) as Report).findings;
    expect(noLow.some((f) => f.severity === "low")).toBe(false);
    expect(await ids("--disable", "attack.t1648")).not.toContain("dcbb228e-4347-4ba8-8304-e7578c8aa19d");
    expect(await ids("--disable", "compute/vm-managed-run-*.yml")).not.toContain(MRC);
    expect(await ids("--enable", MRC)).toEqual([MRC]);
    const r = JSON.parse((await run(demo("--format", "json", "--enable", MRC))).stdout) as Report;
    expect(r.scan.diagnostics?.find((d) => d.code === "rule/disabled")?.message).toMatch(
      /^\d+ rule\(s\) turned off by --enable d0022f8a/,
    );
  });

  it("a user rule with a built-in id replaces it in a scan, and rules lint says so", async () => {
    const builtin = readFileSync(join(PACKAGE_ROOT, "detections/compute/vm-managed-run-command-write.yml"), "utf8");
    tmp.write(
      "tuned/mrc.yml",
      builtin.replace(/^title: .*$/m, "title: Managed Run Command (tuned)").replace(/^level: .*$/m, "level: low"),
    );
    tmp.write(
      "tuned/mrc.tests.yml",
      readFileSync(join(PACKAGE_ROOT, "detections/compute/vm-managed-run-command-write.tests.yml"), "utf8"),
    );
    const r = await run(demo("--format", "json", "--rules", join(tmp.dir, "tuned")));
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as Report;
    expect(report.findings.filter((f) => f.ruleId === MRC).map((f) => [f.title, f.severity])).toEqual([
      ["Managed Run Command (tuned)", "low"],
    ]);
    expect(report.scan.diagnostics?.find((d) => d.code === "rule/replaced")?.message).toMatch(
      /^rule d0022f8a-1487-486c-8691-702cd3532865 \(Managed Run Command created or updated on a VM\) of the built-in pack is replaced by .*tuned\/mrc\.yml$/,
    );
    const lint = await run(["rules", "lint", join(tmp.dir, "tuned"), "--format", "json"]);
    expect(lint.code).toBe(0);
    const j = JSON.parse(lint.stdout) as { rules: number; problems: unknown[]; notes: { note: string }[] };
    expect(j.problems).toEqual([]);
    expect(j.notes[0]?.note).toMatch(/is the built-in rule "Managed Run Command created or updated on a VM"/);
    const text = await run(["rules", "lint", join(tmp.dir, "tuned")]);
    expect(text.stdout).toMatch(/mrc\.yml:1: note: id d0022f8a-/);
  });

  it("rules test --format json", async () => {
    const r = await run(["rules", "test", join(tmp.dir, "tuned"), "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ failed: 0, failures: [] });
  });
});
