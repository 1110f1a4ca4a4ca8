/**
 * Sigma value modifiers, one small definition each, applied left to right as the specification
 * says. A modifier is a transform (turns string values into other strings: base64, wide,
 * windash, …), a match type (how the value compares: contains, re, cidr, gt, …; at most one) or a
 * flag (all, cased, expand, regex flags). The result is typed values (ast.ts): backends decide
 * how to test them.
 */
import { isIP } from "node:net";
import type { SigmaString, SigmaValue, StringPart } from "./ast.js";

export class ModifierError extends Error {}

type Raw = string | number | boolean | null;

interface ModifierBase {
  name: string;
}

/** Turns each string value into one or more strings (bytes of another encoding, dash variants). */
interface Transform extends ModifierBase {
  kind: "transform";
  apply(text: string): string[];
  /** The result is bytes: compare case-sensitively (base64 text is case-significant). */
  bytes?: boolean;
  /** Implies `contains` (base64offset cannot anchor its start or end). */
  impliesContains?: boolean;
}

/** How the value compares. `build` makes the typed value from one raw value. */
interface Match extends ModifierBase {
  kind: "match";
  build?(raw: Raw, flags: Flags): SigmaValue;
  /** For string matches: wildcards added at the start / end. */
  wrap?: { start: boolean; end: boolean };
}

interface Flag extends ModifierBase {
  kind: "flag";
  set(flags: Flags): void;
}

export type Modifier = Transform | Match | Flag;

export interface Flags {
  all: boolean;
  cased: boolean;
  expand: boolean;
  i: boolean;
  m: boolean;
  s: boolean;
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

function number(op: string, raw: Raw): number {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isFinite(n)) throw new ModifierError(`'${op}' needs a number, got ${JSON.stringify(raw)}`);
  return n;
}

const compare = (op: "gt" | "gte" | "lt" | "lte"): Match => ({
  name: op,
  kind: "match",
  build: (raw) => ({ type: "compare", op, value: number(op, raw) }),
});

const flag = (name: string, set: (f: Flags) => void): Flag => ({ name, kind: "flag", set });

const MODIFIERS: Modifier[] = [
  { name: "contains", kind: "match", wrap: { start: true, end: true } },
  { name: "startswith", kind: "match", wrap: { start: false, end: true } },
  { name: "endswith", kind: "match", wrap: { start: true, end: false } },
  {
    name: "re",
    kind: "match",
    build: (raw, f) => {
      const pattern = String(raw);
      try {
        new RegExp(pattern, `${f.i ? "i" : ""}${f.m ? "m" : ""}${f.s ? "s" : ""}`);
      } catch (e) {
        throw new ModifierError(`'re' value is not a valid regular expression: ${(e as Error).message}`);
      }
      return { type: "regex", pattern, flags: { i: f.i, m: f.m, s: f.s } };
    },
  },
  {
    name: "cidr",
    kind: "match",
    build: (raw) => {
      const s = String(raw);
      const [addr, bits] = s.split("/");
      const family = isIP(addr ?? "");
      const prefix = Number(bits);
      if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
        throw new ModifierError(`'cidr' needs a network like 10.0.0.0/8, got ${JSON.stringify(s)}`);
      return { type: "cidr", network: addr as string, prefix, family: family === 4 ? "ipv4" : "ipv6" };
    },
  },
  compare("gt"),
  compare("gte"),
  compare("lt"),
  compare("lte"),
  {
    name: "exists",
    kind: "match",
    build: (raw) => {
      if (typeof raw !== "boolean") throw new ModifierError("'exists' takes true or false");
      return { type: "exists", value: raw };
    },
  },
  {
    name: "fieldref",
    kind: "match",
    build: (raw, f) => ({ type: "fieldref", field: String(raw), cased: f.cased }),
  },
  { name: "base64", kind: "transform", bytes: true, apply: (s) => [Buffer.from(s, "latin1").toString("base64")] },
  { name: "base64offset", kind: "transform", bytes: true, impliesContains: true, apply: base64Offsets },
  { name: "utf16le", kind: "transform", apply: (s) => [utf16le(s)] },
  { name: "wide", kind: "transform", apply: (s) => [utf16le(s)] },
  { name: "utf16be", kind: "transform", apply: (s) => [utf16be(s)] },
  { name: "utf16", kind: "transform", apply: (s) => [`\u00ff\u00fe${utf16le(s)}`] },
  { name: "windash", kind: "transform", apply: windash },
  flag("all", (f) => {
    f.all = true;
  }),
  flag("cased", (f) => {
    f.cased = true;
  }),
  flag("expand", (f) => {
    f.expand = true;
  }),
  flag("i", (f) => {
    f.i = true;
  }),
  flag("ignorecase", (f) => {
    f.i = true;
  }),
  flag("m", (f) => {
    f.m = true;
  }),
  flag("multiline", (f) => {
    f.m = true;
  }),
  flag("s", (f) => {
    f.s = true;
  }),
  flag("dotall", (f) => {
    f.s = true;
  }),
];

const BY_NAME = new Map(MODIFIERS.map((m) => [m.name, m]));

export const KNOWN_MODIFIERS: readonly string[] = MODIFIERS.map((m) => m.name);

/** Parses wildcards (`*`, `?`), escapes (`\*`, `\?`, `\\`) and, with `expand`, `%placeholders%`. */
export function parseString(raw: string, cased: boolean, expand: boolean): SigmaString {
  const parts: StringPart[] = [];
  let lit = "";
  const flush = () => {
    if (lit !== "") parts.push(lit);
    lit = "";
  };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === "\\" && i + 1 < raw.length) {
      const n = raw[i + 1] as string;
      if (n === "*" || n === "?" || n === "\\") {
        lit += n;
        i++;
        continue;
      }
      lit += c;
      continue;
    }
    if (c === "*" || c === "?") {
      flush();
      parts.push({ wildcard: c });
    } else if (c === "%" && expand) {
      const end = raw.indexOf("%", i + 1);
      if (end > i + 1) {
        flush();
        parts.push({ placeholder: raw.slice(i + 1, end) });
        i = end;
      } else {
        lit += c;
      }
    } else {
      lit += c;
    }
  }
  flush();
  return { type: "string", parts, cased };
}

function literal(text: string, cased: boolean): SigmaString {
  return { type: "string", parts: text === "" ? [] : [text], cased };
}

function wrap(s: SigmaString, start: boolean, end: boolean): SigmaString {
  const parts = [...s.parts];
  const isStar = (p: StringPart | undefined) => typeof p === "object" && "wildcard" in p && p.wildcard === "*";
  if (start && !isStar(parts[0])) parts.unshift({ wildcard: "*" });
  if (end && !isStar(parts[parts.length - 1])) parts.push({ wildcard: "*" });
  return { ...s, parts };
}

/**
 * Builds the typed values of one detection item from its raw YAML values and modifier chain.
 * Throws ModifierError naming the problem.
 */
export function buildValues(rawValues: unknown[], modifierNames: string[]): { values: SigmaValue[]; flags: Flags } {
  const mods: Modifier[] = [];
  for (const name of modifierNames) {
    const m = BY_NAME.get(name);
    if (!m) throw new ModifierError(`unknown modifier '${name}' (known: ${KNOWN_MODIFIERS.join(", ")})`);
    mods.push(m);
  }
  const matches = mods.filter((m): m is Match => m.kind === "match");
  if (matches.length > 1)
    throw new ModifierError(`modifiers ${matches.map((m) => m.name).join(" and ")} cannot be combined`);
  const match = matches[0];
  const transforms = mods.filter((m): m is Transform => m.kind === "transform");
  const flags: Flags = { all: false, cased: false, expand: false, i: false, m: false, s: false };
  for (const m of mods) if (m.kind === "flag") m.set(flags);
  if (match?.name === "exists" && rawValues.length !== 1) throw new ModifierError("'exists' takes true or false");
  const values: SigmaValue[] = [];
  for (const raw of rawValues) {
    if (raw !== null && typeof raw === "object")
      throw new ModifierError(`values must be scalars, got ${JSON.stringify(raw)}`);
    const v = raw as Raw;
    if (v === null && match?.name !== "exists") {
      values.push({ type: "null" });
      continue;
    }
    if (match?.build) {
      values.push(match.build(v, flags));
      continue;
    }
    if (transforms.length === 0 && !match) {
      if (typeof v === "number") {
        values.push({ type: "number", value: v });
        continue;
      }
      if (typeof v === "boolean") {
        values.push({ type: "boolean", value: v });
        continue;
      }
    }
    const wrapStart = (match?.wrap?.start ?? false) || transforms.some((t) => t.impliesContains);
    const wrapEnd = (match?.wrap?.end ?? false) || transforms.some((t) => t.impliesContains);
    if (transforms.length === 0) {
      values.push(wrap(parseString(String(v), flags.cased, flags.expand), wrapStart, wrapEnd));
      continue;
    }
    // Encoded values are bytes of the text as written: wildcard characters in them are literal.
    let texts = [String(v)];
    for (const t of transforms) texts = texts.flatMap((x) => t.apply(x));
    const cased = flags.cased || transforms.some((t) => t.bytes);
    const strings = texts.map((x) => wrap(literal(x, cased), wrapStart, wrapEnd));
    values.push(
      strings.length === 1
        ? (strings[0] as SigmaString)
        : { type: "expansion", from: transforms.map((t) => t.name).join("|"), values: strings },
    );
  }
  return { values, flags };
}
