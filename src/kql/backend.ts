/**
 * The KQL backend: renders a processed rule (sigma/pipeline.ts) as a KQL filter over one table, as
 * pySigma's query backends do. It walks the same rule model the in-process matcher compiles
 * (matcher/compile.ts) and emits exactly the operators listed in OPERATORS; anything it cannot
 * express with the matcher's meaning is refused with the reason (`KqlUnsupported`), never
 * approximated. Like the matcher it knows no product: a `KqlSchema` (the table's pipeline side)
 * says what a mapped field is as a KQL expression. test/kql/oracle.ts evaluates exactly this
 * subset to check, rule case by rule case, that the text means what the matcher does.
 */
import type { DetectionItem, SigmaString, SigmaValue } from "../sigma/ast.js";
import { type CondNode, matchNames } from "../sigma/condition.js";
import type { ProcessedRule } from "../sigma/pipeline.js";
import { kqlString } from "./literals.js";

/** Why a rule (or one of its parts) has no KQL form. */
export class KqlUnsupported extends Error {}

/** A mapped field as a KQL string expression, and the computed columns it reads. */
export interface KqlField {
  expr: string;
  /** Names of computed columns (KqlSchema.computed) the expression reads. */
  needs: string[];
}

export interface KqlSchema {
  table: string;
  /**
   * A mapped field as a string-typed KQL expression (dynamic values through `tostring`). `cased`
   * says whether the comparison is case-sensitive, so a schema can pick a case-insensitive path.
   * Throws KqlUnsupported (with why) for a field the table cannot give.
   */
  field(name: string, cased: boolean): KqlField;
  /** Computed columns: name → `extend` lines (in order) and the computed columns they need first. */
  computed: Readonly<Record<string, { lines: readonly string[]; needs: readonly string[] }>>;
}

/** Every operator and function the backend may write (the oracle implements exactly these). */
export const OPERATORS = [
  "=~",
  "==",
  "in~",
  "in",
  "contains",
  "contains_cs",
  "startswith",
  "startswith_cs",
  "endswith",
  "endswith_cs",
  "matches regex",
  "isempty",
  "isnotempty",
  "not",
  "and",
  "or",
  "coalesce",
  "todouble",
  "ipv4_is_in_range",
  "ipv6_is_in_range",
] as const;

/** A rule's filter: the condition and the computed columns it reads, in extend order. */
export interface KqlFilter {
  where: string;
  computed: string[];
}

function isLiteral(p: SigmaString["parts"][number]): p is string {
  return typeof p === "string";
}

function isStar(p: SigmaString["parts"][number]): boolean {
  return typeof p === "object" && "wildcard" in p && p.wildcard === "*";
}

/** RE2 metacharacters escaped: a rule's literal text inside a generated pattern. */
function reLiteral(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/** One string value against `x`, as the matcher's stringTest decides it. */
function stringTest(x: string, s: SigmaString): string {
  const parts = s.parts;
  for (const p of parts) {
    if (typeof p === "object" && "placeholder" in p) {
      throw new KqlUnsupported(`placeholder %${p.placeholder}% was not expanded by the pipeline`);
    }
  }
  if (parts.length === 0) {
    // The matcher compares "" only with a present value; KQL reads a missing value as "" too.
    throw new KqlUnsupported("an empty-string value: KQL cannot tell an empty value from a missing one");
  }
  const cs = s.cased ? "_cs" : "";
  if (parts.length === 1 && isLiteral(parts[0] as never))
    return `${x} ${s.cased ? "==" : "=~"} ${kqlString(parts[0] as string)}`;
  const lit = (i: number) => (isLiteral(parts[i] as never) ? (parts[i] as string) : undefined);
  if (parts.length === 2 && isStar(parts[0] as never) && lit(1) !== undefined)
    return `${x} endswith${cs} ${kqlString(lit(1) as string)}`;
  if (parts.length === 2 && isStar(parts[1] as never) && lit(0) !== undefined)
    return `${x} startswith${cs} ${kqlString(lit(0) as string)}`;
  if (parts.length === 3 && isStar(parts[0] as never) && isStar(parts[2] as never) && lit(1) !== undefined) {
    return `${x} contains${cs} ${kqlString(lit(1) as string)}`;
  }
  // Any other wildcard shape: an anchored pattern built from the rule's own text (glob.ts: `*`
  // any run including line breaks, `?` one character).
  let pattern = s.cased ? "(?s)^" : "(?is)^";
  for (const p of parts) {
    if (typeof p === "string") pattern += reLiteral(p);
    else if ("wildcard" in p) pattern += p.wildcard === "*" ? ".*" : ".";
  }
  return `${x} matches regex ${kqlString(`${pattern}$`)}`;
}

/** JavaScript regex syntax that RE2 (KQL's engine) does not have: refused, never rewritten. */
const NOT_RE2 = [/\(\?<?[=!]/, /\\[1-9]/, /\\k</, /\(\?<[A-Za-z]/];

function regexTest(x: string, v: Extract<SigmaValue, { type: "regex" }>): string {
  if (NOT_RE2.some((r) => r.test(v.pattern))) {
    throw new KqlUnsupported(`regex /${v.pattern}/ uses lookaround or back-references, which KQL's RE2 lacks`);
  }
  const flags = `${v.flags.i ? "i" : ""}${v.flags.m ? "m" : ""}${v.flags.s ? "s" : ""}`;
  return `${x} matches regex ${kqlString(`${flags ? `(?${flags})` : ""}${v.pattern}`)}`;
}

/** Is the comparison in this item case-sensitive (the schema picks its path by it)? */
function itemCased(it: DetectionItem): boolean {
  return it.values.some(
    (v) =>
      ((v.type === "string" || v.type === "fieldref") && v.cased) ||
      (v.type === "expansion" && v.values.some((s) => s.cased)),
  );
}

class Compiler {
  readonly needs = new Set<string>();

  constructor(private readonly schema: KqlSchema) {}

  private field(name: string, cased: boolean): string {
    const f = this.schema.field(name, cased);
    for (const n of f.needs) this.needs.add(n);
    return f.expr;
  }

  item(it: DetectionItem): string {
    if (it.field === undefined) {
      throw new KqlUnsupported("a keyword selection (text anywhere in the record) has no column to search");
    }
    const cased = itemCased(it);
    const x = this.field(it.field, cased);
    const tests: string[] = [];
    // Case-insensitive equalities collapse into one `in~` (the operation lists of most rules).
    const equal: string[] = [];
    for (const v of it.values) {
      switch (v.type) {
        case "string":
          if (it.linking === "or" && !v.cased && v.parts.length === 1 && isLiteral(v.parts[0] as never)) {
            equal.push(v.parts[0] as string);
          } else tests.push(stringTest(x, v));
          break;
        case "expansion":
          tests.push(or(v.values.map((s) => stringTest(x, s))));
          break;
        case "number":
        case "boolean":
          tests.push(`${x} =~ ${kqlString(String(v.value))}`);
          break;
        case "null":
          tests.push(`isempty(${x})`);
          break;
        case "exists":
          tests.push(v.value ? `isnotempty(${x})` : `isempty(${x})`);
          break;
        case "regex":
          tests.push(regexTest(x, v));
          break;
        case "cidr":
          // An address that does not parse is no match (the matcher's BlockList), not null.
          tests.push(
            `coalesce(${v.family === "ipv4" ? "ipv4_is_in_range" : "ipv6_is_in_range"}(${x}, ${kqlString(`${v.network}/${v.prefix}`)}), false)`,
          );
          break;
        case "compare": {
          const op = { gt: ">", gte: ">=", lt: "<", lte: "<=" }[v.op];
          tests.push(`coalesce(todouble(${x}) ${op} ${v.value}, false)`);
          break;
        }
        case "fieldref": {
          const y = this.field(v.field, v.cased);
          // The matcher never matches a missing value; KQL would compare "" with "".
          tests.push(`(isnotempty(${x}) and ${x} ${v.cased ? "==" : "=~"} ${y})`);
          break;
        }
      }
    }
    if (equal.length === 1) tests.unshift(`${x} =~ ${kqlString(equal[0] as string)}`);
    else if (equal.length > 1) tests.unshift(`${x} in~ (${equal.map(kqlString).join(", ")})`);
    return it.linking === "and" ? and(tests) : or(tests);
  }

  condition(node: CondNode, rule: ProcessedRule): string {
    const names = Object.keys(rule.detection.selections);
    switch (node.t) {
      case "id":
        return this.selection(rule, node.name);
      case "not":
        return `not(${this.condition(node.item, rule)})`;
      case "and":
        return and(node.items.map((n) => this.condition(n, rule)));
      case "or":
        return or(node.items.map((n) => this.condition(n, rule)));
      case "of": {
        const parts = matchNames(node.pattern, names).map((n) => this.selection(rule, n));
        return node.quantifier === "all" ? and(parts) : or(parts);
      }
    }
  }

  private selection(rule: ProcessedRule, name: string): string {
    const sel = rule.detection.selections[name];
    if (!sel) throw new KqlUnsupported(`selection ${name} is not defined`);
    return or(sel.alternatives.map((alt) => and(alt.map((it) => this.item(it)))));
  }
}

function group(parts: string[], op: "and" | "or"): string {
  if (parts.length === 0) return op === "and" ? "true" : "false";
  if (parts.length === 1) return parts[0] as string;
  return `(${parts.join(` ${op} `)})`;
}

const and = (parts: string[]) => group(parts, "and");
const or = (parts: string[]) => group(parts, "or");

/** Computed columns in dependency order (each after what it reads). */
export function orderComputed(schema: KqlSchema, wanted: Iterable<string>): string[] {
  const out: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (out.includes(name)) return;
    if (path.includes(name)) throw new KqlUnsupported(`computed column ${name} depends on itself`);
    const c = schema.computed[name];
    if (!c) throw new KqlUnsupported(`no computed column ${name}`);
    for (const n of c.needs) visit(n, [...path, name]);
    out.push(name);
  };
  for (const n of wanted) visit(n, []);
  return out;
}

/** The `extend` lines for computed columns, in order. */
export function extendLines(schema: KqlSchema, names: readonly string[]): string[] {
  return names.flatMap((n) => schema.computed[n]?.lines ?? []);
}

/** A rule's condition as one KQL predicate; throws KqlUnsupported with the reason. */
export function compileFilter(rule: ProcessedRule, schema: KqlSchema): KqlFilter {
  if (rule.target !== schema.table) {
    throw new KqlUnsupported(`the rule reads ${rule.target}, not the ${schema.table} table`);
  }
  const c = new Compiler(schema);
  const where = or(rule.detection.conditions.map((n) => c.condition(n, rule)));
  return { where, computed: orderComputed(schema, c.needs) };
}

/** A field (a first-seen key, a group-by) as a KQL expression with the columns it needs. */
export function compileField(name: string, schema: KqlSchema): KqlField {
  return schema.field(name, false);
}
