/**
 * The Sigma language on plain records: the rule model, a processing pipeline and the in-process
 * matcher with a plain dotted-path resolver. No Azure record, field or pipeline is involved, so
 * these tests pin Sigma's semantics and nothing of ours.
 */
import { describe, expect, it } from "vitest";
import { compileRule, requiredValues } from "../../src/matcher/compile.js";
import { type FieldResolver, RecordView } from "../../src/matcher/view.js";
import type { DetectionRule } from "../../src/sigma/ast.js";
import { RuleError } from "../../src/sigma/errors.js";
import { parseRules } from "../../src/sigma/parse.js";
import { fieldMapping, logsourceTarget, ProcessingPipeline, placeholders } from "../../src/sigma/pipeline.js";

type Rec = Record<string, unknown>;

const plain: FieldResolver = {
  field: (_target, name) => ({
    name,
    get: (r) => name.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Rec)[k] : undefined), r),
  }),
  text: (r) => Object.values(r).filter((v): v is string => typeof v === "string"),
};

const pipeline = new ProcessingPipeline("plain", [
  logsourceTarget(
    (ls) => ls.category,
    () => "needs a category",
  ),
  fieldMapping("aliases", (f) => (f === "cmd" ? "CommandLine" : f)),
  placeholders({ shells: ["bash", "sh", "pwsh"] }),
]);

function parse(detection: string, extra = ""): DetectionRule {
  const text = `title: t\nlogsource: { category: process }\n${extra}detection:\n${detection}`;
  return parseRules(text, "t.yml").rules[0] as DetectionRule;
}

function matcher(detection: string, extra = "") {
  const rule = pipeline.apply(parse(detection, extra));
  const c = compileRule(rule, plain);
  return { rule, match: (r: Rec) => c.predicate(new RecordView(r, rule.target, plain)) };
}

const m = (sel: string, r: Rec) => matcher(`  s:\n${sel}\n  condition: s\n`).match(r);

describe("the rule model keeps the AST", () => {
  it("items carry field, modifiers and typed values; the condition is a tree", () => {
    const r = parse("  s:\n    a|contains|all: [x, 'y*z']\n    n|gt: 5\n  t: [kw]\n  condition: s and not t\n");
    const items = r.detection.selections.s?.alternatives[0] ?? [];
    expect(items[0]).toMatchObject({ field: "a", modifiers: ["contains", "all"], linking: "and" });
    expect(items[0]?.values).toEqual([
      { type: "string", parts: [{ wildcard: "*" }, "x", { wildcard: "*" }], cased: false },
      { type: "string", parts: [{ wildcard: "*" }, "y", { wildcard: "*" }, "z", { wildcard: "*" }], cased: false },
    ]);
    expect(items[1]?.values).toEqual([{ type: "compare", op: "gt", value: 5 }]);
    expect(r.detection.selections.t?.alternatives[0]?.[0]?.field).toBeUndefined();
    expect(r.detection.conditions[0]).toEqual({
      t: "and",
      items: [
        { t: "id", name: "s" },
        { t: "not", item: { t: "id", name: "t" } },
      ],
    });
  });
  it("extension attributes are parsed by their own parsers", () => {
    const r = parse(
      "  s:\n    a: b\n  condition: s\n",
      "atrm: [AZT301.1]\nvectors: [3]\nfirstseen: { fields: [user, ip], learning: 2d }\n",
    );
    expect(r.ext).toEqual({
      atrm: ["AZT301.1"],
      vectors: [3],
      firstseen: { fields: ["user", "ip"], learningMs: 2 * 864e5 },
    });
  });
  it("transforms expand one value into alternatives", () => {
    const r = parse("  s:\n    a|windash|contains: -enc\n  condition: s\n");
    const v = r.detection.selections.s?.alternatives[0]?.[0]?.values[0];
    expect(v?.type).toBe("expansion");
    expect(v?.type === "expansion" ? v.values.length : 0).toBe(5);
  });
});

describe("conditions", () => {
  const rule = (cond: string) => matcher(`  a:\n    x: 1\n  b:\n    y: 2\n  c:\n    z: 3\n  condition: ${cond}\n`);
  const r = { x: 1, y: 9, z: 3 };
  it.each([
    ["a or b", true],
    ["a and b", false],
    ["not b and a", true],
    ["(a or b) and c", true],
    ["a and not (b or c)", false],
    ["1 of them", true],
    ["all of them", false],
    ["1 of b*", false],
    ["all of a*", true],
  ])("%s → %s", (cond, want) => expect(rule(cond).match(r)).toBe(want));
});

describe("values and modifiers on plain records", () => {
  it("case-insensitive unless cased; wildcards and escapes", () => {
    expect(m("    a: HeLLo", { a: "hello" })).toBe(true);
    expect(m("    a|cased: HeLLo", { a: "hello" })).toBe(false);
    expect(m("    a: 'h*o'", { a: "hello" })).toBe(true);
    expect(m("    a: 'h?llo'", { a: "hallo" })).toBe(true);
    expect(m("    a: 'h\\*'", { a: "hello" })).toBe(false);
    expect(m("    a: 'h\\*'", { a: "h*" })).toBe(true);
  });
  it("contains, startswith, endswith; all makes the list AND", () => {
    expect(m("    a|contains: ell", { a: "hello" })).toBe(true);
    expect(m("    a|startswith: he", { a: "hello" })).toBe(true);
    expect(m("    a|endswith: he", { a: "hello" })).toBe(false);
    expect(m("    a|contains|all: [he, lo]", { a: "hello" })).toBe(true);
    expect(m("    a|contains|all: [he, xx]", { a: "hello" })).toBe(false);
    expect(m("    a|contains: [xx, lo]", { a: "hello" })).toBe(true);
  });
  it("arrays: any element matches", () => {
    expect(m("    a: two", { a: ["one", "two"] })).toBe(true);
  });
  it("re, cidr, comparisons, exists, null, fieldref", () => {
    expect(m("    a|re: '^h.l+o$'", { a: "hello" })).toBe(true);
    expect(m("    a|re|i: '^HELLO$'", { a: "hello" })).toBe(true);
    expect(m("    ip|cidr: 10.0.0.0/8", { ip: "10.2.3.4" })).toBe(true);
    expect(m("    ip|cidr: '2001:db8::/32'", { ip: "2001:db8::1" })).toBe(true);
    expect(m("    n|gte: 5", { n: "5" })).toBe(true);
    expect(m("    n|lt: 5", { n: 5 })).toBe(false);
    expect(m("    a|exists: true", { a: "x" })).toBe(true);
    expect(m("    a|exists: false", { b: "x" })).toBe(true);
    expect(m("    a: null", { b: 1 })).toBe(true);
    expect(m("    a|fieldref: b", { a: "X", b: "x" })).toBe(true);
  });
  it("base64offset and wide encode the value as bytes", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(m("    a|base64offset|contains: secret", { a: b64("my secret!") })).toBe(true);
    expect(m("    a|base64offset|contains: secret", { a: b64("xx secret") })).toBe(true);
    expect(
      m("    a|wide|base64offset|contains: ps", { a: Buffer.from("run ps now", "utf16le").toString("base64") }),
    ).toBe(true);
  });
  it("keywords search every string of the record", () => {
    const { match } = matcher("  k:\n    - needle\n  condition: k\n");
    expect(match({ a: "hay needle hay" })).toBe(true);
    expect(match({ a: "hay" })).toBe(false);
  });
  it("lists of maps are OR; a map is AND", () => {
    expect(m("    - a: 1\n      b: 2\n    - c: 3", { a: 1, b: 9, c: 3 })).toBe(true);
    expect(m("    - a: 1\n      b: 2", { a: 1, b: 9 })).toBe(false);
  });
});

describe("processing pipelines", () => {
  it("field mapping renames fields before compiling", () => {
    expect(m("    cmd|contains: whoami", { CommandLine: "c:\\whoami.exe" })).toBe(true);
  });
  it("placeholders under expand become value lists", () => {
    const { rule, match } = matcher("  s:\n    shell|expand: '%shells%'\n  condition: s\n");
    expect(match({ shell: "pwsh" })).toBe(true);
    expect(match({ shell: "cmd" })).toBe(false);
    expect(requiredValues(rule, (f) => f === "shell")).toEqual(new Set(["bash", "sh", "pwsh"]));
  });
  it("an unknown placeholder is a rule error naming the known ones", () => {
    expect(() => matcher("  s:\n    shell|expand: '%nope%'\n  condition: s\n")).toThrow(
      /'%nope%' is not defined \(known: %shells%\)/,
    );
  });
  it("a logsource the pipeline cannot target is a rule error at the logsource line", () => {
    const rule = parseRules("title: t\nlogsource: { product: x }\ndetection:\n  s: {a: b}\n  condition: s\n", "t.yml")
      .rules[0] as DetectionRule;
    try {
      pipeline.apply(rule);
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(RuleError);
      expect((e as RuleError).line).toBe(2);
    }
  });
  it("the parsed rule is not changed by a pipeline (each backend gets its own view)", () => {
    const r = parse("  s:\n    cmd: x\n  condition: s\n");
    pipeline.apply(r);
    expect(r.detection.selections.s?.alternatives[0]?.[0]?.field).toBe("cmd");
  });
});

describe("index keys", () => {
  const req = (det: string) => requiredValues(pipeline.apply(parse(det)), (f) => f === "op");
  it("a required exact value pins the rule; negation, wildcards and modifiers do not", () => {
    expect(req("  s:\n    op: A\n  condition: s\n")).toEqual(new Set(["a"]));
    expect(req("  s:\n    op: A\n  t:\n    op: B\n  condition: s or t\n")).toEqual(new Set(["a", "b"]));
    expect(req("  s:\n    op: A\n  t:\n    x: 1\n  condition: s and t\n")).toEqual(new Set(["a"]));
    expect(req("  s:\n    op: A\n  condition: not s\n")).toBeUndefined();
    expect(req("  s:\n    op: 'A*'\n  condition: s\n")).toBeUndefined();
    expect(req("  s:\n    op|contains: A\n  condition: s\n")).toBeUndefined();
    expect(req("  s:\n    op: A\n  t:\n    x: 1\n  condition: s or t\n")).toBeUndefined();
  });
});
