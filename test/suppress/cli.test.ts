/**
 * Suppressions as a user runs them: `scan --demo --suppressions ./suppressions.yaml …` in a
 * directory of their own, through bin/ in a child process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate parsed reports freely.
type Json = Record<string, any>;

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const cli = (line: string) => runCli(line.split(" "), {}, 150_000, tmp.dir);

/** The demo's high and critical rules (test/fixtures/demo-findings.json), by the start of their ids. */
const HIGH_AND_CRITICAL = ["0d3ab25c", "009b52d6", "2c2714bf", "76d62365", "336e30f3", "f4339963", "871dd6bd"];

beforeAll(() => {
  tmp.write(
    "suppressions.yaml",
    [
      "suppressions:",
      ...HIGH_AND_CRITICAL.flatMap((r) => [
        `  - rule: "${r}-*"`,
        "    principal: a442edc7-37ba-4cef-a407-f093bfc1c697",
        `    reason: accepted for the demo (${r})`,
        "    expires: 2099-01-01",
      ]),
    ].join("\n"),
  );
  tmp.write(
    "expired.yaml",
    ["suppressions:", "  - rule: f4339963-*", "    reason: was accepted last year", "    expires: 2025-01-01"].join(
      "\n",
    ),
  );
  tmp.write(
    "bad.yaml",
    [
      "suppressions:",
      "  - rule: f4339963-*",
      "    reason: accepted",
      "    expires: 2099-01-01",
      "  - rule: 2c2714bf-*",
      "    expires: 2099-01-01",
    ].join("\n"),
  );
});

describe("scan --suppressions", () => {
  it("suppressed findings stay in the report, marked with their entry, and never count for --fail-on", async () => {
    const without = await cli("scan --demo --fail-on high");
    expect(without.code).toBe(1);
    const r = await cli("scan --demo --suppressions ./suppressions.yaml --fail-on high");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Json;
    expect(report.findings).toHaveLength(12);
    const suppressed = report.findings.filter((f: Json) => f.status === "suppressed");
    expect(suppressed.map((f: Json) => f.ruleId.slice(0, 8)).sort()).toEqual([...HIGH_AND_CRITICAL].sort());
    const f = suppressed.find((x: Json) => x.ruleId.startsWith("f4339963"));
    expect(f.suppression).toEqual({
      reason: "accepted for the demo (f4339963)",
      expires: "2099-01-01",
      entry: "./suppressions.yaml:22",
    });
    // The medium and low findings are not suppressed, so a lower threshold still fails.
    expect((await cli("scan --demo --suppressions ./suppressions.yaml --fail-on medium")).code).toBe(1);
  });

  it("an expired entry does not apply and is reported as expired (a diagnostic and one stderr line)", async () => {
    const r = await cli("scan --demo --suppressions ./expired.yaml --fail-on high");
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^azure-exec-audit: suppression \.\/expired\.yaml:2 \(rule 'f4339963-\*'\) expired on 2025-01-01/,
    );
    // Then the gate's one line saying why it failed.
    expect(lines[1]).toMatch(/^azure-exec-audit: \d+ findings at or above high \(/);
    const report = JSON.parse(r.stdout) as Json;
    expect(report.findings.filter((f: Json) => f.status === "suppressed")).toEqual([]);
    expect(report.scan.diagnostics).toContainEqual(
      expect.objectContaining({ code: "suppression/expired", location: { file: "./expired.yaml", line: 2 } }),
    );
  });

  it("an entry without a reason is a configuration error naming the entry and the key: exit 3, one line", async () => {
    const r = await cli("scan --demo --suppressions ./bad.yaml --fail-on high");
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "azure-exec-audit: ./bad.yaml:5: suppressions[1].reason is required (every suppression needs a reason and an expires date)\n",
    );
  });

  it("SARIF marks suppressed results with an external, accepted suppression and validates", async () => {
    const r = await cli("scan --demo --suppressions ./suppressions.yaml --format sarif --output results.sarif");
    expect(r.code).toBe(0);
    const log = JSON.parse(readFileSync(join(tmp.dir, "results.sarif"), "utf8")) as Json;
    expect(validateSarif(log), sarifErrors()).toBe(true);
    const results = log.runs[0].results as Json[];
    const suppressed = results.filter((x) => x.suppressions);
    expect(suppressed).toHaveLength(HIGH_AND_CRITICAL.length);
    expect(suppressed[0]?.suppressions).toEqual([
      {
        kind: "external",
        status: "accepted",
        justification: expect.stringMatching(/^accepted for the demo/),
        properties: { expires: "2099-01-01", entry: expect.stringMatching(/^\.\/suppressions\.yaml:\d+$/) },
      },
    ]);
    expect(results.filter((x) => !x.suppressions)).toHaveLength(5);
  });

  it("the table lists suppressed findings apart, with their reason", async () => {
    const r = await cli("scan --demo --suppressions ./suppressions.yaml --format table");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("5 findings (3 medium, 2 low) · 7 suppressed ·");
    const [main, apart] = r.stdout.split("Suppressed (7; reported, not counted for --fail-on):");
    expect(main).not.toContain("Recovered payload runs a cryptocurrency miner");
    expect(apart).toContain("Recovered payload runs a cryptocurrency miner");
    expect(apart).toContain("accepted for the demo (009b52d6)");
  });
});
