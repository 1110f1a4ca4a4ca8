/**
 * The config file as users meet it: `init`, then `scan` in that directory, with environment
 * variables and flags on top; every mistake one sentence naming the key, exit 3. Through bin/
 * in a child process, in a directory of the test's own.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/index.js";
import { runCli, tempDir } from "../helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate parsed reports freely.
type Json = Record<string, any>;

const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(() => {
  for (const d of dirs) d.cleanup();
});
function project() {
  const d = tempDir();
  dirs.push(d);
  return { ...d, cli: (line: string, env: NodeJS.ProcessEnv = {}) => runCli(line.split(" "), env, 150_000, d.dir) };
}

/** The demo's two critical findings, suppressed inline: what is left reaches high, not critical. */
const CRITICALS_SUPPRESSED = [
  "suppressions:",
  "  - rule: 0d3ab25c-*",
  "    reason: chain accepted in the demo",
  "    expires: 2099-01-01",
  "  - rule: 009b52d6-*",
  "    reason: miner accepted in the demo",
  "    expires: 2099-01-01",
];

describe("init", () => {
  it("writes a starter config that validates and that scan reads; refuses to overwrite without --force", async () => {
    const p = project();
    const first = await p.cli("init");
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toContain("wrote azure-exec-audit.yaml");
    const file = join(p.dir, "azure-exec-audit.yaml");
    const written = readFileSync(file, "utf8");
    expect(() => parseConfigText(written, "azure-exec-audit.yaml", ["table", "json", "sarif"])).not.toThrow();
    // scan reads it: the starter's failOn: high fails on the demo, and nothing is reported wrong with it.
    const scan = await p.cli("scan --demo");
    // The one line that says why the gate failed, and nothing else.
    expect(scan.stderr).toMatch(
      /^azure-exec-audit: 7 findings at or above high \(2 critical, 5 high\): see the report\n$/,
    );
    expect(scan.code).toBe(1);

    writeFileSync(file, "failOn: low\n");
    const again = await p.cli("init");
    expect(again.code).toBe(3);
    expect(again.stderr).toBe("azure-exec-audit: azure-exec-audit.yaml already exists; pass --force to overwrite it\n");
    expect(readFileSync(file, "utf8")).toBe("failOn: low\n");
    expect((await p.cli("init --force")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(written);
  });
});

describe("precedence: command line > environment > config file", () => {
  it("failOn", async () => {
    const p = project();
    p.write("azure-exec-audit.yaml", [...CRITICALS_SUPPRESSED, "failOn: high"].join("\n"));
    // The file alone: high findings remain, so the gate fails.
    expect((await p.cli("scan --demo")).code).toBe(1);
    // The environment beats the file: nothing unsuppressed is critical.
    expect((await p.cli("scan --demo", { AZURE_EXEC_AUDIT_FAIL_ON: "critical" })).code).toBe(0);
    // The command line beats the environment.
    expect((await p.cli("scan --demo --fail-on high", { AZURE_EXEC_AUDIT_FAIL_ON: "critical" })).code).toBe(1);
  });

  it("format, and suppressions written in the config name their line there", async () => {
    const p = project();
    p.write("azure-exec-audit.yaml", [...CRITICALS_SUPPRESSED, "output:", "  format: sarif"].join("\n"));
    const file = await p.cli("scan --demo");
    expect(file.code).toBe(0);
    const sarif = JSON.parse(file.stdout) as Json;
    expect(sarif.version).toBe("2.1.0");
    const env = await p.cli("scan --demo", { AZURE_EXEC_AUDIT_FORMAT: "json" });
    const report = JSON.parse(env.stdout) as Json;
    expect(report.schemaVersion).toBe("3");
    expect(
      report.findings.filter((f: Json) => f.status === "suppressed").map((f: Json) => f.suppression.entry),
    ).toEqual(expect.arrayContaining(["azure-exec-audit.yaml:2", "azure-exec-audit.yaml:5"]));
    const cli = await p.cli("scan --demo --format table", { AZURE_EXEC_AUDIT_FORMAT: "json" });
    expect(cli.stdout).toContain("Suppressed (2;");
  });

  it("--suppressions on the command line replaces the config's; --config names another file", async () => {
    const p = project();
    p.write("azure-exec-audit.yaml", CRITICALS_SUPPRESSED.join("\n"));
    p.write("none.yaml", "suppressions: []\n");
    p.write("ci/strict.yaml", "failOn: critical\n");
    expect((await p.cli("scan --demo --fail-on critical")).code).toBe(0);
    expect((await p.cli("scan --demo --fail-on critical --suppressions ./none.yaml")).code).toBe(1);
    expect((await p.cli("scan --demo --config ci/strict.yaml")).code).toBe(1);
    expect((await p.cli("scan --demo", { AZURE_EXEC_AUDIT_CONFIG: "ci/strict.yaml" })).code).toBe(1);
  });

  it("a suppression file named in the config is read from the config's directory and named from the working directory", async () => {
    const p = project();
    p.write("audit/azure-exec-audit.yaml", "suppressions: ./accepted.yaml\n");
    p.write("audit/accepted.yaml", CRITICALS_SUPPRESSED.join("\n"));
    const r = await p.cli("scan --demo --config audit/azure-exec-audit.yaml --fail-on critical");
    expect(r.code).toBe(0);
    const entries = (JSON.parse(r.stdout) as Json).findings
      .filter((f: Json) => f.status === "suppressed")
      .map((f: Json) => f.suppression.entry);
    expect(entries.sort()).toEqual(["audit/accepted.yaml:2", "audit/accepted.yaml:5"]);
  });

  it("what to scan comes from the file when the command line names nothing; paths are relative to the file", async () => {
    const p = project();
    p.write(
      "audit/exports/quiet.jsonl",
      `${JSON.stringify({
        time: "2026-11-01T09:00:00Z",
        resourceId: "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
        operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION",
        category: "Administrative",
        resultType: "Success",
        correlationId: "c1",
      })}\n`,
    );
    p.write("audit/azure-exec-audit.yaml", "sources:\n  inputs:\n    - ./exports\noutput:\n  format: json\n");
    const r = await p.cli("scan --config audit/azure-exec-audit.yaml");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Json;
    expect(report.scan.coverage.map((c: Json) => c.scope)).toEqual([join(p.dir, "audit/exports")]);
    // --demo on the command line replaces the file's inputs.
    const demo = JSON.parse((await p.cli("scan --demo --config audit/azure-exec-audit.yaml")).stdout) as Json;
    expect(demo.findings).toHaveLength(12);
  });
});

describe("config errors: one sentence naming the key and what is allowed, exit 3", () => {
  const cases: [string, string, string][] = [
    [
      "enum",
      "failOn: severe\n",
      "azure-exec-audit.yaml:1: failOn must be one of informational, low, medium, high, critical (got 'severe')",
    ],
    [
      "unknown key",
      "scopes:\n  subscription: [x]\n",
      "azure-exec-audit.yaml:2: scopes has an unknown key 'subscription' (allowed: subscriptions, allSubscriptions, managementGroup)",
    ],
    [
      "unknown top-level key",
      "fail_on: high\n",
      "azure-exec-audit.yaml:1: the file has an unknown key 'fail_on' (allowed: scopes, sources, lookback, rules, suppressions, baseline, output, failOn, severity, enable, disable, state, maxConcurrency, readAppSettings, sentinel)",
    ],
    ["type", "readAppSettings: yes\n", "azure-exec-audit.yaml:1: readAppSettings must be true or false (got 'yes')"],
    ["range", "maxConcurrency: 100\n", "azure-exec-audit.yaml:1: maxConcurrency must be at most 64 (got 100)"],
    [
      "format",
      "output:\n  format: xml\n",
      "azure-exec-audit.yaml:2: output.format must be one of table, json, sarif, markdown, csv, html, navigator (got 'xml')",
    ],
    [
      "duration",
      "lookback:\n  since: last week\n",
      "azure-exec-audit.yaml:2: lookback.since must be a duration back from now (7d, 24h, 90m) or an ISO date (2026-11-20T00:00:00Z) (got 'last week')",
    ],
    [
      "one scope",
      "scopes:\n  allSubscriptions: true\n  managementGroup: mg\n",
      "azure-exec-audit.yaml:2: scopes must name only one of subscriptions, allSubscriptions, managementGroup",
    ],
    [
      "suppression without reason",
      "suppressions:\n  - rule: x\n    expires: 2030-01-01\n",
      "azure-exec-audit.yaml:2: suppressions[0].reason is required (every suppression needs a reason and an expires date)",
    ],
    ["state", "state: true\n", "azure-exec-audit.yaml:1: state must be a string or false (got true)"],
  ];
  it.each(cases)("%s", async (_, text, message) => {
    const p = project();
    p.write("azure-exec-audit.yaml", text);
    const r = await p.cli("scan --demo");
    expect(r).toEqual({ code: 3, stdout: "", stderr: `azure-exec-audit: ${message}\n` });
  });
  it("YAML syntax, a missing --config file, a bad environment variable", async () => {
    const p = project();
    p.write("azure-exec-audit.yaml", "failOn: [high\n");
    const yaml = await p.cli("scan --demo");
    expect(yaml.code).toBe(3);
    expect(yaml.stderr).toMatch(/^azure-exec-audit: azure-exec-audit\.yaml:\d+: not valid YAML \([^\n]+\)\n$/);
    expect(await p.cli("scan --demo --config nope.yaml")).toEqual({
      code: 3,
      stdout: "",
      stderr: "azure-exec-audit: config file nope.yaml does not exist\n",
    });
    const env = await project().cli("scan --demo", { AZURE_EXEC_AUDIT_FAIL_ON: "severe" });
    expect(env).toEqual({
      code: 3,
      stdout: "",
      stderr:
        "azure-exec-audit: AZURE_EXEC_AUDIT_FAIL_ON must be one of informational, low, medium, high, critical (got 'severe')\n",
    });
  });
});
