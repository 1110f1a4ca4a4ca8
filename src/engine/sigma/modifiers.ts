/**
 * Sigma value modifiers. Transformations (base64, base64offset, utf16le/wide, windash) turn one
 * rule value into one or more strings; then one match type (equality with wildcards, contains,
 * startswith, endswith, re, cidr, gt/gte/lt/lte, exists, fieldref) decides; `all` turns the
 * value list from OR into AND; `cased` makes string matches case-sensitive.
 */
import { BlockList, isIP } from "node:net";
import { globMatch, parseWildcards } from "./glob.js";

export class ModifierError extends Error {}

const TRANSFORMS = new Set(["base64", "base64offset", "utf16le", "wide", "utf16be", "utf16", "windash"]);
const MATCHERS = new Set([
  "contains",
  "startswith",
  "endswith",
  "re",
  "cidr",
  "gt",
  "gte",
  "lt",
  "lte",
  "exists",
  "fieldref",
]);
const FLAGS = new Set(["all", "cased", "i", "m", "s", "ignorecase", "multiline", "dotall"]);

export const KNOWN_MODIFIERS: readonly string[] = [...TRANSFORMS, ...MATCHERS, ...FLAGS];

/** Longest field text a string matcher looks at; attacker strings beyond it are not scanned. */
export const MAX_MATCH_CHARS = 256 * 1024;

/** Tests one resolved field value (already flattened to leaves). */
export type LeafTest = (leaf: unknown, other: (field: string) => unknown[]) => boolean;

export interface ValueSpec {
  tests: LeafTest[];
  all: boolean;
  /** `exists` is about the field, not its leaves. */
  exists?: boolean;
}

function toText(v: unknown): string | undefined {
  if (typeof v === "string") return v.length > MAX_MATCH_CHARS ? v.slice(0, MAX_MATCH_CHARS) : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function utf16le(s: string): string {
  return Buffer.from(s, "utf16le").toString("latin1");
}
function utf16be(s: string): string {
  const b = Buffer.from(s, "utf16le");
  for (let i = 0; i + 1 < b.length; i += 2) {
    const t = b[i] as number;
    b[i] = b[i + 1] as number;
    b[i + 1] = t;
  }
  return b.toString("latin1");
}

/** The three base64 renderings of `s` at byte offsets 0, 1 and 2, trimmed to their stable core. */
function base64Offsets(s: string): string[] {
  const bytes = Buffer.from(s, "latin1");
  const out: string[] = [];
  const startTrim = [0, 2, 3];
  const endTrim = [0, 3, 2];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]);
    const enc = padded.toString("base64").replace(/=+$/, "");
    const full = padded.toString("base64");
    const cutEnd = endTrim[(bytes.length + shift) % 3] as number;
    const core = full.slice(startTrim[shift] as number, cutEnd ? full.length - cutEnd : full.length);
    out.push(core.length > 0 ? core : enc);
  }
  return out;
}

const DASHES = ["-", "/", "\u2013", "\u2014", "\u2015"];

function windash(s: string): string[] {
  // Only dashes that start an option (start of text or after white space) vary.
  const positions: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] === "-" && (i === 0 || /\s/.test(s[i - 1] as string))) positions.push(i);
  if (positions.length === 0) return [s];
  return DASHES.map((d) => {
    let r = "";
    let last = 0;
    for (const p of positions) {
      r += s.slice(last, p) + d;
      last = p + 1;
    }
    return r + s.slice(last);
  });
}

function applyTransforms(value: string, mods: string[]): string[] {
  let vals = [value];
  for (const m of mods) {
    if (m === "utf16le" || m === "wide") vals = vals.map(utf16le);
    else if (m === "utf16be") vals = vals.map(utf16be);
    else if (m === "utf16") vals = vals.map((v) => `\u00ff\u00fe${utf16le(v)}`);
    else if (m === "base64") vals = vals.map((v) => Buffer.from(v, "latin1").toString("base64"));
    else if (m === "base64offset") vals = vals.flatMap(base64Offsets);
    else if (m === "windash") vals = vals.flatMap(windash);
  }
  return vals;
}

function stringTest(kind: "eq" | "contains" | "startswith" | "endswith", raw: string, cased: boolean): LeafTest {
  // Wildcards apply to every match type; contains/startswith/endswith add implicit stars.
  const { pattern, hasWildcard, literal } = parseWildcards(raw);
  const norm = (s: string) => (cased ? s : s.toLowerCase());
  if (!hasWildcard) {
    const lit = norm(literal);
    switch (kind) {
      case "eq":
        return (leaf) => {
          const t = toText(leaf);
          return t !== undefined && norm(t) === lit;
        };
      case "contains":
        return (leaf) => {
          const t = toText(leaf);
          return t !== undefined && norm(t).includes(lit);
        };
      case "startswith":
        return (leaf) => {
          const t = toText(leaf);
          return t !== undefined && norm(t).startsWith(lit);
        };
      case "endswith":
        return (leaf) => {
          const t = toText(leaf);
          return t !== undefined && norm(t).endsWith(lit);
        };
    }
  }
  const p = norm(pattern);
  const full =
    kind === "contains"
      ? `\u0000${p}\u0000`
      : kind === "startswith"
        ? `${p}\u0000`
        : kind === "endswith"
          ? `\u0000${p}`
          : p;
  return (leaf) => {
    const t = toText(leaf);
    return t !== undefined && globMatch(full, norm(t));
  };
}

function numberTest(op: string, v: unknown): LeafTest {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) throw new ModifierError(`'${op}' needs a number, got ${JSON.stringify(v)}`);
  return (leaf) => {
    const x =
      typeof leaf === "number" ? leaf : typeof leaf === "string" && leaf.trim() !== "" ? Number(leaf) : Number.NaN;
    if (!Number.isFinite(x)) return false;
    return op === "gt" ? x > n : op === "gte" ? x >= n : op === "lt" ? x < n : x <= n;
  };
}

function cidrTest(v: unknown): LeafTest {
  const s = String(v);
  const [addr, bits] = s.split("/");
  const type = isIP(addr ?? "");
  const prefix = Number(bits);
  if (!type || !Number.isInteger(prefix))
    throw new ModifierError(`'cidr' needs a network like 10.0.0.0/8, got ${JSON.stringify(s)}`);
  const list = new BlockList();
  const family = type === 4 ? "ipv4" : "ipv6";
  list.addSubnet(addr as string, prefix, family);
  return (leaf) => {
    const t = toText(leaf);
    if (!t) return false;
    const ty = isIP(t);
    return ty !== 0 && list.check(t, ty === 4 ? "ipv4" : "ipv6");
  };
}

function regexTest(v: unknown, flags: string[]): LeafTest {
  let f = "";
  if (flags.includes("i") || flags.includes("ignorecase")) f += "i";
  if (flags.includes("m") || flags.includes("multiline")) f += "m";
  if (flags.includes("s") || flags.includes("dotall")) f += "s";
  let re: RegExp;
  try {
    re = new RegExp(String(v), f);
  } catch (e) {
    throw new ModifierError(`'re' value is not a valid regular expression: ${(e as Error).message}`);
  }
  return (leaf) => {
    const t = toText(leaf);
    return t !== undefined && re.test(t);
  };
}

/** Builds the test for one field's value list under its modifiers. */
export function compileValues(values: unknown[], modifiers: string[]): ValueSpec {
  for (const m of modifiers) {
    if (!TRANSFORMS.has(m) && !MATCHERS.has(m) && !FLAGS.has(m)) {
      throw new ModifierError(`unknown modifier '${m}' (known: ${KNOWN_MODIFIERS.join(", ")})`);
    }
  }
  const matchers = modifiers.filter((m) => MATCHERS.has(m));
  if (matchers.length > 1) throw new ModifierError(`modifiers ${matchers.join(" and ")} cannot be combined`);
  const matcher = matchers[0];
  const transforms = modifiers.filter((m) => TRANSFORMS.has(m));
  const cased = modifiers.includes("cased");
  const all = modifiers.includes("all");
  if (matcher === "exists") {
    const v = values[0];
    if (values.length !== 1 || typeof v !== "boolean") throw new ModifierError("'exists' takes true or false");
    return { tests: [], all: false, exists: v };
  }
  const tests: LeafTest[] = [];
  for (const v of values) {
    if (v === null) {
      // `field: null` means the field is absent or empty; handled by compile.ts.
      tests.push((leaf) => leaf === null || leaf === undefined || leaf === "");
      continue;
    }
    if (typeof v === "object") throw new ModifierError(`values must be scalars, got ${JSON.stringify(v)}`);
    if (matcher === "gt" || matcher === "gte" || matcher === "lt" || matcher === "lte") {
      tests.push(numberTest(matcher, v));
      continue;
    }
    if (matcher === "cidr") {
      tests.push(cidrTest(v));
      continue;
    }
    if (matcher === "re") {
      tests.push(regexTest(v, modifiers));
      continue;
    }
    if (matcher === "fieldref") {
      const ref = String(v);
      tests.push((leaf, other) => {
        const t = toText(leaf);
        if (t === undefined) return false;
        const a = cased ? t : t.toLowerCase();
        return other(ref).some((o) => {
          const u = toText(o);
          return u !== undefined && (cased ? u : u.toLowerCase()) === a;
        });
      });
      continue;
    }
    let variants = applyTransforms(String(v), transforms);
    const kind =
      matcher === "contains" || transforms.includes("base64offset")
        ? "contains"
        : matcher === "startswith"
          ? "startswith"
          : matcher === "endswith"
            ? "endswith"
            : "eq";
    // Encoded values are bytes: escape wildcard characters so base64 '+' etc. stay literal.
    if (transforms.length > 0) variants = variants.map((x) => x.replace(/[\\*?]/g, (c) => `\\${c}`));
    const sub = variants.map((x) => stringTest(kind, x, cased || transforms.some((t) => t.startsWith("base64"))));
    tests.push(sub.length === 1 ? (sub[0] as LeafTest) : (leaf, o) => sub.some((s) => s(leaf, o)));
  }
  return { tests, all };
}
