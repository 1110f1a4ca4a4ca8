/**
 * TEST ORACLE, not a Kusto engine. A small evaluator of exactly the KQL subset the backend
 * (src/kql/backend.ts) and the Sentinel query shapes (src/azure/sentinel/analytics.ts) write, so
 * the differential test can run a rule's generated query text over its test cases as AzureActivity
 * rows and compare the verdict with the in-process matcher's. It implements Kusto's documented
 * semantics for these operators only (string equality and `=~`/`in~`, `contains`/`startswith`/
 * `endswith` case-insensitive unless `_cs`, `matches regex` (RE2; the patterns we write are the
 * shared subset of RE2 and JavaScript), `tostring`/`parse_json` on dynamic values, `coalesce`
 * skipping null and empty strings, `ago`, `let`, `where`, `extend`, `project`, `distinct`,
 * `join kind=leftanti`, `union`, `summarize` with `bin`, `count`, `dcount`, `make_set`,
 * `take_any`, `min(if)`, `max(if)`). Anything else throws, so a new operator in the backend fails the test
 * until the oracle learns it.
 */
import { BlockList, isIP } from "node:net";

export type Row = Record<string, unknown>;

// ---------- tokens ----------

type Tok =
  | { t: "id"; v: string }
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "span"; v: number }
  | { t: "op"; v: string };

const SPAN_UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let v = "";
      i++;
      while (src[i] !== c) {
        if (i >= src.length) throw new Error("unterminated string literal");
        if (src[i] === "\\") {
          const n = src[i + 1] as string;
          v += n === "n" ? "\n" : n === "t" ? "\t" : n;
          i += 2;
        } else v += src[i++];
      }
      i++;
      out.push({ t: "str", v });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^([0-9]+(?:\.[0-9]+)?)(ms|d|h|m|s)?(?![A-Za-z0-9_])/.exec(src.slice(i));
      if (!m) throw new Error(`bad number at ${src.slice(i, i + 10)}`);
      if (m[2]) out.push({ t: "span", v: Number(m[1]) * (SPAN_UNITS[m[2]] as number) });
      else out.push({ t: "num", v: Number(m[1]) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_]*(?:~)?/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ t: "id", v: m[0] });
      i += m[0].length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (["=~", "==", "!=", "!~", ">=", "<=", ".."].includes(two)) {
      out.push({ t: "op", v: two });
      i += 2;
      continue;
    }
    if ("|(),;=<>[].+-".includes(c)) {
      out.push({ t: "op", v: c });
      i++;
      continue;
    }
    throw new Error(`oracle: unexpected character '${c}'`);
  }
  return out;
}

// ---------- expressions ----------

type Expr =
  | { k: "lit"; v: unknown }
  | { k: "col"; name: string }
  | { k: "call"; fn: string; args: Expr[] }
  | { k: "index"; of: Expr; key: Expr }
  | { k: "bin"; op: string; l: Expr; r: Expr }
  | { k: "list"; op: string; l: Expr; items: Expr[] };

const STRING_OPS = new Set([
  "contains",
  "contains_cs",
  "startswith",
  "startswith_cs",
  "endswith",
  "endswith_cs",
  "in",
  "in~",
  "matches",
]);

class Parser {
  pos = 0;
  constructor(readonly toks: Tok[]) {}

  peek(n = 0): Tok | undefined {
    return this.toks[this.pos + n];
  }
  isOp(v: string, n = 0): boolean {
    const t = this.peek(n);
    return t?.t === "op" && t.v === v;
  }
  isId(v: string, n = 0): boolean {
    const t = this.peek(n);
    return t?.t === "id" && t.v === v;
  }
  expectOp(v: string): void {
    if (!this.isOp(v)) throw new Error(`oracle: expected '${v}' at token ${this.pos} (${JSON.stringify(this.peek())})`);
    this.pos++;
  }
  ident(): string {
    const t = this.peek();
    if (t?.t !== "id") throw new Error(`oracle: expected a name at token ${this.pos} (${JSON.stringify(t)})`);
    this.pos++;
    return t.v;
  }

  expr(): Expr {
    return this.or();
  }
  or(): Expr {
    let l = this.and();
    while (this.isId("or")) {
      this.pos++;
      l = { k: "bin", op: "or", l, r: this.and() };
    }
    return l;
  }
  and(): Expr {
    let l = this.cmp();
    while (this.isId("and")) {
      this.pos++;
      l = { k: "bin", op: "and", l, r: this.cmp() };
    }
    return l;
  }
  cmp(): Expr {
    const l = this.add();
    const t = this.peek();
    if (t?.t === "op" && ["=~", "==", "!=", "!~", ">", ">=", "<", "<="].includes(t.v)) {
      this.pos++;
      return { k: "bin", op: t.v, l, r: this.add() };
    }
    if (t?.t === "id" && STRING_OPS.has(t.v)) {
      this.pos++;
      if (t.v === "matches") {
        if (!this.isId("regex")) throw new Error("oracle: 'matches' without 'regex'");
        this.pos++;
        return { k: "bin", op: "matches regex", l, r: this.add() };
      }
      if (t.v === "in" || t.v === "in~") {
        this.expectOp("(");
        const items: Expr[] = [];
        while (!this.isOp(")")) {
          items.push(this.expr());
          if (this.isOp(",")) this.pos++;
        }
        this.pos++;
        return { k: "list", op: t.v, l, items };
      }
      return { k: "bin", op: t.v, l, r: this.add() };
    }
    return l;
  }
  add(): Expr {
    let l = this.postfix();
    while (this.isOp("+") || this.isOp("-")) {
      const op = (this.peek() as { v: string }).v;
      this.pos++;
      l = { k: "bin", op, l, r: this.postfix() };
    }
    return l;
  }
  postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.isOp("[")) {
        this.pos++;
        const key = this.expr();
        this.expectOp("]");
        e = { k: "index", of: e, key };
      } else if (this.isOp(".") && this.peek(1)?.t === "id") {
        this.pos++;
        e = { k: "index", of: e, key: { k: "lit", v: this.ident() } };
      } else return e;
    }
  }
  primary(): Expr {
    const t = this.peek();
    if (!t) throw new Error("oracle: expression ends early");
    if (t.t === "str" || t.t === "num" || t.t === "span") {
      this.pos++;
      return { k: "lit", v: t.v };
    }
    if (t.t === "op" && t.v === "(") {
      this.pos++;
      const e = this.expr();
      this.expectOp(")");
      return e;
    }
    if (t.t === "op" && t.v === "-") {
      this.pos++;
      return { k: "bin", op: "-", l: { k: "lit", v: 0 }, r: this.primary() };
    }
    if (t.t === "id") {
      this.pos++;
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
      if (this.isOp("(")) {
        this.pos++;
        const args: Expr[] = [];
        while (!this.isOp(")")) {
          args.push(this.expr());
          if (this.isOp(",")) this.pos++;
        }
        this.pos++;
        return { k: "call", fn: t.v, args };
      }
      return { k: "col", name: t.v };
    }
    throw new Error(`oracle: unexpected ${JSON.stringify(t)}`);
  }
}

// ---------- values ----------

function tostring(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function parseJson(v: unknown): unknown {
  if (typeof v !== "string") return v ?? null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const isEmpty = (v: unknown) => v === null || v === undefined || v === "";

/** RE2 inline flags at the start (`(?is)`) become JavaScript flags. */
function regex(pattern: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  return m ? new RegExp(pattern.slice(m[0].length), (m[1] as string).replace("m", "m")) : new RegExp(pattern);
}

function inRange(ip: string, range: string, family: "ipv4" | "ipv6"): boolean | null {
  if (isIP(ip) !== (family === "ipv4" ? 4 : 6)) return null;
  const [net, prefix] = range.split("/");
  const list = new BlockList();
  list.addSubnet(net as string, Number(prefix), family);
  return list.check(ip, family);
}

interface Ctx {
  row: Row;
  now: number;
}

function ev(e: Expr, c: Ctx): unknown {
  switch (e.k) {
    case "lit":
      return e.v;
    case "col":
      if (!(e.name in c.row)) throw new Error(`oracle: no column ${e.name}`);
      return c.row[e.name];
    case "index": {
      const o = ev(e.of, c);
      const key = ev(e.key, c);
      if (o && typeof o === "object" && !Array.isArray(o) && typeof key === "string") {
        const v = (o as Record<string, unknown>)[key];
        return v === undefined ? null : v;
      }
      if (Array.isArray(o) && typeof key === "number") return o[key < 0 ? o.length + key : key] ?? null;
      return null;
    }
    case "list": {
      const l = ev(e.l, c);
      const items = e.items.map((i) => ev(i, c));
      if (e.op === "in~") return items.some((i) => tostring(i).toLowerCase() === tostring(l).toLowerCase());
      return items.some((i) => i === l);
    }
    case "bin":
      return binary(e.op, e.l, e.r, c);
    case "call":
      return call(e.fn, e.args, c);
  }
}

function binary(op: string, le: Expr, re: Expr, c: Ctx): unknown {
  if (op === "and" || op === "or") {
    const l = ev(le, c);
    const r = ev(re, c);
    if (op === "and") return l === false || r === false ? false : l === null || r === null ? null : true;
    return l === true || r === true ? true : l === null || r === null ? null : false;
  }
  const l = ev(le, c);
  const r = ev(re, c);
  const ls = tostring(l);
  const rs = tostring(r);
  switch (op) {
    case "=~":
      return ls.toLowerCase() === rs.toLowerCase();
    case "!~":
      return ls.toLowerCase() !== rs.toLowerCase();
    case "==":
      return typeof l === "string" || typeof r === "string" ? ls === rs : l === r;
    case "!=":
      return typeof l === "string" || typeof r === "string" ? ls !== rs : l !== r;
    case "contains":
      return ls.toLowerCase().includes(rs.toLowerCase());
    case "contains_cs":
      return ls.includes(rs);
    case "startswith":
      return ls.toLowerCase().startsWith(rs.toLowerCase());
    case "startswith_cs":
      return ls.startsWith(rs);
    case "endswith":
      return ls.toLowerCase().endsWith(rs.toLowerCase());
    case "endswith_cs":
      return ls.endsWith(rs);
    case "matches regex":
      return regex(rs).test(ls);
    case "+":
    case "-":
    case ">":
    case ">=":
    case "<":
    case "<=": {
      if (l === null || r === null || l === undefined || r === undefined) return null;
      const a = l as number;
      const b = r as number;
      return op === "+"
        ? a + b
        : op === "-"
          ? a - b
          : op === ">"
            ? a > b
            : op === ">="
              ? a >= b
              : op === "<"
                ? a < b
                : a <= b;
    }
  }
  throw new Error(`oracle: operator ${op} is not in the subset`);
}

function call(fn: string, args: Expr[], c: Ctx): unknown {
  const a = (i: number) => ev(args[i] as Expr, c);
  switch (fn) {
    case "tostring":
      return tostring(a(0));
    case "tolower":
      return tostring(a(0)).toLowerCase();
    case "parse_json":
      return parseJson(a(0));
    case "isempty":
      return isEmpty(a(0));
    case "isnotempty":
      return !isEmpty(a(0));
    case "isnotnull":
      return a(0) !== null && a(0) !== undefined;
    case "not": {
      const v = a(0);
      return v === null ? null : !v;
    }
    case "coalesce":
      for (let i = 0; i < args.length; i++) {
        const v = a(i);
        if (!isEmpty(v)) return v;
      }
      return typeof a(0) === "string" ? "" : null;
    case "iff":
      return a(0) === true ? a(1) : a(2);
    case "case": {
      for (let i = 0; i + 1 < args.length; i += 2) if (a(i) === true) return a(i + 1);
      return a(args.length - 1);
    }
    case "extract": {
      const m = regex(tostring(a(0))).exec(tostring(a(2)));
      return m ? (m[a(1) as number] ?? "") : "";
    }
    case "strcat":
      return args.map((_, i) => tostring(a(i))).join("");
    case "split":
      return tostring(a(0)).split(tostring(a(1)));
    case "array_slice": {
      const arr = a(0) as unknown[];
      return Array.isArray(arr) ? arr.slice(a(1) as number, (a(2) as number) + 1) : null;
    }
    case "strcat_array":
      return Array.isArray(a(0)) ? (a(0) as unknown[]).map(tostring).join(tostring(a(1))) : "";
    case "indexof":
      return tostring(a(0)).indexOf(tostring(a(1)));
    case "todouble": {
      const v = a(0);
      if (typeof v === "number") return v;
      const s = tostring(v).trim();
      if (s === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
      return Number(s);
    }
    case "ipv4_is_in_range":
      return inRange(tostring(a(0)), tostring(a(1)), "ipv4");
    case "ipv6_is_in_range":
      return inRange(tostring(a(0)), tostring(a(1)), "ipv6");
    case "ago":
      return c.now - (a(0) as number);
  }
  throw new Error(`oracle: function ${fn} is not in the subset`);
}

// ---------- tabular ----------

export interface RunOptions {
  /** The time `ago()` counts back from (epoch ms). */
  now: number;
  /** `let name = <scalar>` values to use instead of the query's (a scan window mapped onto the rule's). */
  params?: Record<string, unknown>;
}

/** Runs a query over the AzureActivity rows; returns the result rows. */
export function runQuery(query: string, table: Row[], opts: RunOptions): Row[] {
  const p = new Parser(tokenize(query));
  const tables = new Map<string, Row[]>([["AzureActivity", table]]);
  const scalars: Record<string, unknown> = {};
  let result: Row[] | undefined;
  while (p.peek()) {
    if (p.isId("let")) {
      p.pos++;
      const name = p.ident();
      p.expectOp("=");
      if (p.peek()?.t === "id" && (tables.has((p.peek() as { v: string }).v) || p.isId("union", 0))) {
        tables.set(name, tabular(p, tables, scalars, opts));
      } else {
        const v = ev(p.expr(), { row: scalars, now: opts.now });
        scalars[name] = opts.params && name in opts.params ? opts.params[name] : v;
      }
      p.expectOp(";");
      continue;
    }
    result = tabular(p, tables, scalars, opts);
    if (p.isOp(";")) p.pos++;
  }
  if (!result) throw new Error("oracle: the query has no tabular expression");
  return result;
}

function tabular(p: Parser, tables: Map<string, Row[]>, scalars: Record<string, unknown>, opts: RunOptions): Row[] {
  let rows: Row[];
  if (p.isId("union")) {
    p.pos++;
    rows = [];
    do {
      if (p.isOp(",")) p.pos++;
      const name = p.ident();
      rows.push(...(tables.get(name) ?? fail(`no table ${name}`)));
    } while (p.isOp(","));
  } else {
    const name = p.ident();
    rows = tables.get(name) ?? fail(`no table ${name}`);
  }
  const ctx = (row: Row): Ctx => ({ row: { ...scalars, ...row }, now: opts.now });
  while (p.isOp("|")) {
    p.pos++;
    const op = p.ident();
    if (op === "where") {
      const e = p.expr();
      rows = rows.filter((r) => ev(e, ctx(r)) === true);
    } else if (op === "extend" || op === "project") {
      const cols: [string, Expr][] = [];
      do {
        if (p.isOp(",")) p.pos++;
        const name = p.ident();
        if (p.isOp("=")) {
          p.pos++;
          cols.push([name, p.expr()]);
        } else cols.push([name, { k: "col", name }]);
      } while (p.isOp(","));
      rows = rows.map((r) => {
        const out: Row = op === "extend" ? { ...r } : {};
        const c = ctx(r);
        for (const [n, e] of cols) {
          out[n] = ev(e, c);
          c.row[n] = out[n];
        }
        return out;
      });
    } else if (op === "distinct") {
      const cols: string[] = [];
      do {
        if (p.isOp(",")) p.pos++;
        cols.push(p.ident());
      } while (p.isOp(","));
      const seen = new Map<string, Row>();
      for (const r of rows) {
        const key = JSON.stringify(cols.map((c) => r[c]));
        if (!seen.has(key)) seen.set(key, Object.fromEntries(cols.map((c) => [c, r[c]])));
      }
      rows = [...seen.values()];
    } else if (op === "join") {
      if (!(p.isId("kind") && p.isOp("=", 1) && p.isId("leftanti", 2)))
        fail("only join kind=leftanti is in the subset");
      p.pos += 3;
      const right = tables.get(p.ident()) ?? fail("join: unknown table");
      if (!p.isId("on")) fail("join without on");
      p.pos++;
      const cols: string[] = [];
      do {
        if (p.isOp(",")) p.pos++;
        cols.push(p.ident());
      } while (p.isOp(","));
      const keys = new Set(right.map((r) => JSON.stringify(cols.map((c) => r[c]))));
      rows = rows.filter((r) => !keys.has(JSON.stringify(cols.map((c) => r[c]))));
    } else if (op === "summarize") {
      rows = summarize(p, rows, ctx);
    } else fail(`operator | ${op} is not in the subset`);
  }
  return rows;
}

/** `summarize Name = agg(...), … by key, bin(TimeGenerated, span)`: the aggregations the correlations use. */
function summarize(p: Parser, rows: Row[], ctx: (r: Row) => Ctx): Row[] {
  const aggs: [string, string, Expr[]][] = [];
  do {
    if (p.isOp(",")) p.pos++;
    const name = p.ident();
    p.expectOp("=");
    const e = p.expr();
    if (e.k !== "call") fail("summarize: an aggregation must be a call");
    aggs.push([name, e.fn, e.args]);
  } while (p.isOp(","));
  if (!p.isId("by")) fail("summarize without by");
  p.pos++;
  const keys: [string, Expr][] = [];
  do {
    if (p.isOp(",")) p.pos++;
    const e = p.expr();
    if (e.k === "col") keys.push([e.name, e]);
    else if (e.k === "call" && e.fn === "bin" && e.args[0]?.k === "col") keys.push([e.args[0].name, e]);
    else fail("summarize: a key must be a column or bin(column, span)");
  } while (p.isOp(","));
  const groups = new Map<string, { key: Row; rows: Row[] }>();
  for (const r of rows) {
    const c = ctx(r);
    const key: Row = {};
    for (const [n, e] of keys) {
      if (e.k === "call") {
        const t = ev(e.args[0] as Expr, c) as number;
        const span = ev(e.args[1] as Expr, c) as number;
        key[n] = Math.floor(t / span) * span;
      } else key[n] = ev(e, c);
    }
    const id = JSON.stringify(key);
    const g = groups.get(id) ?? { key, rows: [] };
    g.rows.push(r);
    groups.set(id, g);
  }
  return [...groups.values()].map(({ key, rows: rs }) => {
    const out: Row = { ...key };
    for (const [name, fn, args] of aggs) {
      const vals = (i: number, pred?: Expr) =>
        rs.filter((r) => !pred || ev(pred, ctx(r)) === true).map((r) => ev(args[i] as Expr, ctx(r)));
      const present = (xs: unknown[]) => xs.filter((x) => x !== null && x !== undefined);
      switch (fn) {
        case "count":
          out[name] = rs.length;
          break;
        case "dcount":
          out[name] = new Set(present(vals(0)).map((x) => JSON.stringify(x))).size;
          break;
        case "make_set":
          out[name] = [...new Set(present(vals(0)).map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x));
          break;
        case "take_any":
          out[name] = vals(0)[0] ?? null;
          break;
        case "min":
        case "minif":
        case "max":
        case "maxif": {
          const xs = present(vals(0, fn.endsWith("if") ? args[1] : undefined)) as number[];
          out[name] = xs.length === 0 ? null : fn.startsWith("min") ? Math.min(...xs) : Math.max(...xs);
          break;
        }
        default:
          fail(`aggregation ${fn} is not in the subset`);
      }
    }
    return out;
  });
}

function fail(msg: string): never {
  throw new Error(`oracle: ${msg}`);
}
