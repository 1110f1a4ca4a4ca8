/**
 * The in-process backend: a processed rule (sigma/pipeline.ts) compiles once into one predicate
 * over a RecordView. Evaluation then parses nothing: field getters were resolved ahead, string
 * values became literal or wildcard tests, regexes and networks were built. Attacker strings are
 * capped before any test looks at them.
 */
import { BlockList, isIP } from "node:net";
import type { DetectionItem, SigmaString, SigmaValue } from "../sigma/ast.js";
import { type CondNode, matchNames } from "../sigma/condition.js";
import type { ProcessedRule } from "../sigma/pipeline.js";
import { globMatch } from "./glob.js";
import type { CompiledField, FieldResolver, RecordView } from "./view.js";

/** Longest field text a string test looks at; attacker strings beyond it are not scanned. */

/** Characters of one value a regex reads; past it the value is cut (docs/rules.md, "Regular expressions"). */
export const MAX_REGEX_INPUT = 256 * 1024;
export const MAX_MATCH_CHARS = 256 * 1024;

export type Predicate = (view: RecordView) => boolean;

/** Tests one leaf of a resolved field; `other` resolves another field of the record (fieldref). */
type LeafTest = (leaf: unknown, other: (field: string) => unknown[]) => boolean;

export interface CompiledRule {
  predicate: Predicate;
  /** Field names the rule reads (documentation, evidence of what matched). */
  fields: Set<string>;
  /** True when a field it reads is known only at the end of the input (see CompiledField.late). */
  late: boolean;
  /** For a late rule: whether every late field it reads is already final for this record. */
  settled(view: RecordView): boolean;
}

function toText(v: unknown): string | undefined {
  if (typeof v === "string") return v.length > MAX_MATCH_CHARS ? v.slice(0, MAX_MATCH_CHARS) : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function isStar(p: SigmaString["parts"][number]): boolean {
  return typeof p === "object" && "wildcard" in p && p.wildcard === "*";
}

/** The fastest test for a string value: equality, contains, prefix, suffix, else a glob. */
function stringTest(s: SigmaString): LeafTest {
  const norm = (x: string) => (s.cased ? x : x.toLowerCase());
  const parts = s.parts;
  const literalAt = (i: number) => (typeof parts[i] === "string" ? norm(parts[i] as string) : undefined);
  const test =
    (f: (t: string) => boolean): LeafTest =>
    (leaf) => {
      const t = toText(leaf);
      return t !== undefined && f(norm(t));
    };
  if (parts.length === 0) return test((t) => t === "");
  if (parts.length === 1) {
    const lit = literalAt(0);
    if (lit !== undefined) return test((t) => t === lit);
  }
  if (parts.length === 2 && isStar(parts[0] as never) && literalAt(1) !== undefined) {
    const lit = literalAt(1) as string;
    return test((t) => t.endsWith(lit));
  }
  if (parts.length === 2 && isStar(parts[1] as never) && literalAt(0) !== undefined) {
    const lit = literalAt(0) as string;
    return test((t) => t.startsWith(lit));
  }
  if (parts.length === 3 && isStar(parts[0] as never) && isStar(parts[2] as never) && literalAt(1) !== undefined) {
    const lit = literalAt(1) as string;
    return test((t) => t.includes(lit));
  }
  let pattern = "";
  for (const p of parts) {
    if (typeof p === "string") pattern += norm(p);
    else if ("wildcard" in p) pattern += p.wildcard === "*" ? "\u0000" : "\u0001";
    else throw new Error(`placeholder %${p.placeholder}% was not expanded by the pipeline`);
  }
  return test((t) => globMatch(pattern, t));
}

function cidrTest(network: string, prefix: number, family: "ipv4" | "ipv6"): LeafTest {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return (leaf) => {
    const t = toText(leaf);
    if (!t) return false;
    const ty = isIP(t);
    return ty !== 0 && list.check(t, ty === 4 ? "ipv4" : "ipv6");
  };
}

function valueTest(v: SigmaValue): LeafTest {
  switch (v.type) {
    case "string":
      return stringTest(v);
    case "expansion": {
      const tests = v.values.map(stringTest);
      return (leaf, other) => tests.some((t) => t(leaf, other));
    }
    case "number":
    case "boolean": {
      const want = String(v.value).toLowerCase();
      return (leaf) => toText(leaf)?.toLowerCase() === want;
    }
    case "null":
      return (leaf) => leaf === null || leaf === undefined || leaf === "";
    case "regex": {
      const re = new RegExp(v.pattern, `${v.flags.i ? "i" : ""}${v.flags.m ? "m" : ""}${v.flags.s ? "s" : ""}`);
      return (leaf) => {
        const t = toText(leaf);
        // Bounded input: a regex's time grows with what it reads (payloads are capped before this).
        return t !== undefined && re.test(t.length > MAX_REGEX_INPUT ? t.slice(0, MAX_REGEX_INPUT) : t);
      };
    }
    case "cidr":
      return cidrTest(v.network, v.prefix, v.family);
    case "compare":
      return (leaf) => {
        const x =
          typeof leaf === "number" ? leaf : typeof leaf === "string" && leaf.trim() !== "" ? Number(leaf) : Number.NaN;
        if (!Number.isFinite(x)) return false;
        return v.op === "gt" ? x > v.value : v.op === "gte" ? x >= v.value : v.op === "lt" ? x < v.value : x <= v.value;
      };
    case "fieldref":
      return (leaf, other) => {
        const t = toText(leaf);
        if (t === undefined) return false;
        const a = v.cased ? t : t.toLowerCase();
        return other(v.field).some((o) => {
          const u = toText(o);
          return u !== undefined && (v.cased ? u : u.toLowerCase()) === a;
        });
      };
    case "exists":
      // Decided on the field as a whole (compileItem), never per leaf.
      return () => false;
  }
}

interface Built {
  pred: Predicate;
  late: boolean;
}

function compileItem(it: DetectionItem, target: string, resolver: FieldResolver, fields: Set<string>): Built {
  const tests = it.values.map(valueTest);
  const all = it.linking === "and";
  if (it.field === undefined) {
    const none = () => [];
    return {
      late: false,
      pred: (view) => {
        const text = view.allText();
        const hit = (t: LeafTest) => text.some((s) => t(s, none));
        return all ? tests.every(hit) : tests.some(hit);
      },
    };
  }
  fields.add(it.field);
  const field: CompiledField = resolver.field(target, it.field);
  const exists = it.values.find((v) => v.type === "exists");
  if (exists && exists.type === "exists") {
    const want = exists.value;
    return {
      late: !!field.late,
      pred: (view) => view.resolved(field).some((x) => x !== null && x !== undefined && x !== "") === want,
    };
  }
  return {
    late: !!field.late,
    pred: (view) => {
      const vals = view.resolved(field);
      const other = (f: string) => view.field(f);
      const leafList = vals.length === 0 ? [undefined] : vals;
      const hit = (t: LeafTest) => leafList.some((leaf) => t(leaf, other));
      return all ? tests.every(hit) : tests.some(hit);
    },
  };
}

function and(preds: Predicate[]): Predicate {
  return preds.length === 1 ? (preds[0] as Predicate) : (v) => preds.every((p) => p(v));
}

function or(preds: Predicate[]): Predicate {
  return preds.length === 1 ? (preds[0] as Predicate) : (v) => preds.some((p) => p(v));
}

function compileCondition(node: CondNode, sel: Map<string, Predicate>, names: string[]): Predicate {
  switch (node.t) {
    case "id":
      return sel.get(node.name) as Predicate;
    case "not": {
      const p = compileCondition(node.item, sel, names);
      return (v) => !p(v);
    }
    case "and":
      return and(node.items.map((n) => compileCondition(n, sel, names)));
    case "or":
      return or(node.items.map((n) => compileCondition(n, sel, names)));
    case "of": {
      const ps = matchNames(node.pattern, names).map((n) => sel.get(n) as Predicate);
      return node.quantifier === "all" ? and(ps) : or(ps);
    }
  }
}

export function compileRule(rule: ProcessedRule, resolver: FieldResolver): CompiledRule {
  const fields = new Set<string>();
  const sel = new Map<string, Predicate>();
  let late = false;
  const names = Object.keys(rule.detection.selections);
  for (const [name, s] of Object.entries(rule.detection.selections)) {
    const alts = s.alternatives.map((alt) => {
      const built = alt.map((it) => compileItem(it, rule.target, resolver, fields));
      if (built.some((b) => b.late)) late = true;
      return and(built.map((b) => b.pred));
    });
    sel.set(name, or(alts));
  }
  const predicate = or(rule.detection.conditions.map((c) => compileCondition(c, sel, names)));
  const lateFields: CompiledField[] = [];
  for (const name of fields) {
    const f = resolver.field(rule.target, name);
    if (f.late) lateFields.push(f);
  }
  return { predicate, fields, late, settled: (view) => lateFields.every((f) => view.settled(f)) };
}

/**
 * Values of `field` (compared case-insensitively) one of which a record must have for the rule
 * to match, when that can be known statically; undefined when the rule could match any value.
 * An engine indexes rules by them so a record meets only the rules that can match it.
 */
export function requiredValues(rule: ProcessedRule, isKeyField: (field: string) => boolean): Set<string> | undefined {
  const names = Object.keys(rule.detection.selections);
  const ofItem = (it: DetectionItem): Set<string> | undefined => {
    if (it.field === undefined || !isKeyField(it.field) || it.linking === "and") return undefined;
    if (it.modifiers.some((m) => m !== "expand")) return undefined;
    const out = new Set<string>();
    for (const v of it.values) {
      if (v.type !== "string" || v.cased) return undefined;
      let text = "";
      for (const p of v.parts) {
        if (typeof p !== "string") return undefined;
        text += p;
      }
      out.add(text.toLowerCase());
    }
    return out;
  };
  const smallest = (sets: (Set<string> | undefined)[]): Set<string> | undefined => {
    let best: Set<string> | undefined;
    for (const s of sets) if (s && (!best || s.size < best.size)) best = s;
    return best;
  };
  const union = (sets: (Set<string> | undefined)[]): Set<string> | undefined =>
    sets.some((s) => s === undefined) ? undefined : new Set(sets.flatMap((s) => [...(s as Set<string>)]));
  // An alternative (AND of items) is pinned by any item that pins; a selection (OR) needs all.
  const ofSelection = (name: string) =>
    union((rule.detection.selections[name]?.alternatives ?? []).map((alt) => smallest(alt.map(ofItem))));
  const ofNode = (node: CondNode): Set<string> | undefined => {
    switch (node.t) {
      case "id":
        return ofSelection(node.name);
      case "not":
        return undefined;
      case "and":
        return smallest(node.items.map(ofNode));
      case "or":
        return union(node.items.map(ofNode));
      case "of": {
        const sets = matchNames(node.pattern, names).map(ofSelection);
        return node.quantifier === "all" ? smallest(sets) : union(sets);
      }
    }
  };
  return union(rule.detection.conditions.map(ofNode));
}
