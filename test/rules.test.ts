/**
 * The built-in rule pack: every rule loads, carries valid metadata, and passes the match and
 * nomatch cases in its `.tests.yml` (RuleTester style).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_RULES_DIR } from "../src/paths.js";
import { vectorsWithoutRules } from "../src/rules/coverage.js";
import { lintRules, loadVectors } from "../src/rules/lint.js";
import { loadRules } from "../src/rules/loader.js";
import { testableFor, testRule } from "../src/rules/tester.js";

interface Technique {
  id: string;
  revoked: boolean;
  deprecated: boolean;
}
// ATT&CK v18.1 enterprise techniques (copied from shared/reference/attack/techniques.json).
const techniques = new Map(
  (JSON.parse(readFileSync(join(import.meta.dirname, "../data/attack-techniques.json"), "utf8")) as Technique[]).map(
    (t) => [t.id, t],
  ),
);

const loaded = await loadRules([BUILTIN_RULES_DIR]);
const { errors } = loaded;
// Rules that only feed a correlation in their file are tested through that correlation.
const rules = [...loaded.rules.filter((r) => !r.private), ...loaded.correlations];

describe("built-in rule pack", () => {
  it("loads without errors", () => {
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(12);
  });

  it("covers every vector that leaves Activity Log or configuration evidence", () => {
    const vectors = loadVectors(join(BUILTIN_RULES_DIR, "vectors.yml"));
    expect(vectors.length).toBeGreaterThanOrEqual(57);
    expect(vectorsWithoutRules(vectors, loaded).map((v) => `${v.id} ${v.name}`)).toEqual([]);
  });

  it("lints clean", () => {
    const problems = lintRules(loaded, join(BUILTIN_RULES_DIR, "vectors.yml"));
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.problem}`)).toEqual([]);
  });

  it.each(rules.map((r) => [r.title, r] as const))(
    "%s: metadata is complete and ATT&CK ids are current",
    (_t, rule) => {
      expect(rule.techniques.length).toBeGreaterThan(0);
      for (const id of rule.techniques) {
        const t = techniques.get(id);
        expect(t, `${id} is not an ATT&CK v18.1 technique`).toBeDefined();
        expect(t?.revoked || t?.deprecated, `${id} is revoked or deprecated`).toBe(false);
      }
      // The two ids the brief warns about.
      expect(rule.techniques).not.toContain("T1078.001");
      expect(rule.techniques).not.toContain("T1204.004");
      expect(rule.description).toBeTruthy();
      expect(rule.falsepositives.length).toBeGreaterThan(0);
    },
  );

  it.each(rules.map((r) => [r.title, r] as const))("%s: embedded tests pass", async (_t, rule) => {
    const results = await testRule(testableFor(rule, loaded));
    const failed = results.filter((r) => !r.passed).map((r) => `${r.kind} "${r.name}": ${r.problem}`);
    expect(failed).toEqual([]);
    expect(results.some((r) => r.kind === "match")).toBe(true);
    expect(results.some((r) => r.kind === "nomatch")).toBe(true);
  });
});
