/**
 * ReDoS: every regex in the built-in pack finishes the adversarial inputs of src/rules/redos.ts
 * within the probe's budget; the probe itself catches the textbook catastrophic patterns.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { BUILTIN_RULES_DIR } from "../../src/paths.js";
import { loadRules, prepareText } from "../../src/rules/loader.js";
import { PROBE_BUDGET_MS, probeRegexes, regexesOf } from "../../src/rules/redos.js";
import { runScan } from "../../src/scan/run.js";
import { runCli, tempDir } from "../helpers.js";

describe("regexes and catastrophic backtracking", () => {
  it("the probe stops and flags patterns that backtrack catastrophically, and passes linear ones", async () => {
    const results = await probeRegexes(
      [
        { pattern: "^(a+)+$", flags: "" },
        { pattern: "(\\s*,?\\s*)*x", flags: "" },
        { pattern: "^(\\w+\\s?)*$", flags: "i" },
        { pattern: "\\bsh[ \\t]+-i\\b", flags: "i" },
      ],
      500,
    );
    expect(results.map((r) => r.timedOut)).toEqual([true, true, true, false]);
  }, 30_000);

  it(`every regex of the built-in pack finishes its adversarial inputs within ${PROBE_BUDGET_MS} ms`, async () => {
    const { rules, errors } = await loadRules([BUILTIN_RULES_DIR]);
    expect(errors).toEqual([]);
    const probes = rules.flatMap((r) => regexesOf(r.detection).map((p) => ({ ...p, rule: r.id })));
    expect(probes.length).toBeGreaterThan(20);
    const results = await probeRegexes(probes);
    const slow = results.filter((r) => r.timedOut).map((r) => r.pattern);
    expect(slow).toEqual([]);
  }, 120_000);
});

/** A user rule over the Activity Log whose one selection is `field|re: pattern`. */
const userRule = (id: string, pattern: string) => `title: user rule ${id}
id: ${id}
status: experimental
logsource:
  product: azure
  service: activitylogs
detection:
  selection:
    operationName|re: '${pattern}'
  condition: selection
level: low
`;

describe("user rules", () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it("a user rule whose regex backtracks catastrophically is skipped with the pattern named; the scan goes on", async () => {
    tmp.write("rules/bad.yml", userRule("7c1bd3c2-44f8-4c4e-9a59-0a3c0d9a0b01", "^(q+)+$"));
    tmp.write("rules/good.yml", userRule("7c1bd3c2-44f8-4c4e-9a59-0a3c0d9a0b02", "runCommand/action$"));
    const r = await runCli(["scan", "--demo", "--no-state", "--rules", join(tmp.dir, "rules"), "--format", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("regular expression '^(q+)+$' backtracks catastrophically");
    const report = JSON.parse(r.stdout) as { scan: { diagnostics?: { code: string; message: string }[] } };
    const skipped = (report.scan.diagnostics ?? []).filter((d) => d.code === "rule/skipped").map((d) => d.message);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain("7c1bd3c2-44f8-4c4e-9a59-0a3c0d9a0b01");
  }, 60_000);

  it("a user rule that blows its per-record budget is disabled for the rest of the scan and reported", async () => {
    // Not loaded through the probe: a pattern the adversarial inputs would catch, to reach the run-time guard.
    const { rules } = prepareText(userRule("7c1bd3c2-44f8-4c4e-9a59-0a3c0d9a0b03", "^(q+)+$"), "slow.yml");
    for (const r of rules) r.budgeted = true;
    const slow = `${"q".repeat(27)}/write`;
    tmp.write(
      "slow/events.json",
      JSON.stringify(
        [1, 2, 3].map((i) => ({
          eventDataId: `e-${i}`,
          operationName: { value: slow },
          eventTimestamp: `2026-11-19T02:0${i}:00Z`,
          status: { value: "Succeeded" },
          resourceId: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg",
        })),
      ),
    );
    const { result } = await runScan({
      collectors: [new FilesCollector([join(tmp.dir, "slow")])],
      loaded: { rules, correlations: [], errors: [] },
      noPrefilter: true,
    });
    const over = result.diagnostics.filter((d) => d.code === "rule/over-budget");
    expect(over).toHaveLength(1);
    expect(over[0]?.message).toMatch(
      /took \d+ ms on one record \(budget 250 ms\) and was disabled for the rest of the scan/,
    );
    expect(result.complete).toBe(true);
  }, 120_000);
});
