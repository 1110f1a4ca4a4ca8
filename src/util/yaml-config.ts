/**
 * YAML files the user writes (the config file, suppression files) read with line numbers and
 * validated with zod, so that a mistake is one sentence naming the file, the line, the key path
 * and what is allowed: `azure-exec-audit.yaml:7: failOn must be one of informational, low,
 * medium, high, critical (got 'severe')`. Every error is a UsageError (exit 3).
 */
import { readFileSync } from "node:fs";
import { type Document, isMap, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { UsageError } from "./errors.js";
import { cap, sanitizeForTerminal } from "./text.js";

/** A parsed YAML file, kept with its document so errors can name lines. */
export interface YamlSource {
  /** How messages name the file (the path as the user gave it); empty for values that are not a file. */
  label: string;
  value: unknown;
  doc?: Document;
  counter?: LineCounter;
}

export type Path = readonly PropertyKey[];

export function parseYaml(text: string, label: string): YamlSource {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const line = error.pos ? counter.linePos(error.pos[0]).line : undefined;
    throw new UsageError(
      `${label}${line ? `:${line}` : ""}: not valid YAML (${oneLine(error.message.split("\n")[0] ?? "")})`,
    );
  }
  return { label, value: doc.toJS(), doc, counter };
}

/** A file the user named, as text; missing or unreadable is a usage error naming `what` and `label`. */
export function readUserText(file: string, label: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT"
        ? `${what} ${label} does not exist`
        : `cannot read ${what} ${label} (${code ?? (e as Error).message})`,
    );
  }
}

/** Reads and parses a YAML file; a missing or unreadable file is a usage error naming `what`. */
export function readYaml(file: string, label: string, what: string): YamlSource {
  const text = readUserText(file, label, what);
  return parseYaml(text, label);
}

/** The 1-based line of the node at `path`, or of its nearest ancestor (a missing key: its mapping). */
export function lineAt(src: YamlSource, path: Path): number | undefined {
  const { doc, counter } = src;
  if (!doc || !counter) return undefined;
  const keys = path.map((k) => (typeof k === "number" ? k : String(k)));
  for (let n = keys.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true)) as
      | { range?: [number, number, number] }
      | null
      | undefined;
    if (node && typeof node === "object" && node.range) return counter.linePos(node.range[0]).line;
    const parent = n > 0 ? (n === 1 ? doc.contents : doc.getIn(keys.slice(0, n - 1), true)) : undefined;
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown })?.value === keys[n - 1]);
      const k = pair?.key as { range?: [number, number, number] } | undefined;
      if (k?.range) return counter.linePos(k.range[0]).line;
    }
  }
  return undefined;
}

/** `scopes.subscriptions[0]`, `suppressions[2].reason`. */
export function formatPath(path: Path): string {
  let s = "";
  for (const k of path) s += typeof k === "number" ? `[${k}]` : s.length === 0 ? String(k) : `.${String(k)}`;
  return s;
}

function oneLine(s: string): string {
  return sanitizeForTerminal(cap(s, 120)).replace(/\s+/g, " ");
}

/** A value as an error message quotes it: strings quoted and capped, other kinds named. */
export function showValue(v: unknown): string {
  if (typeof v === "string") return `'${oneLine(v)}'`;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Date) return `'${v.toISOString()}'`;
  return typeof v === "object" ? "a mapping" : typeof v;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  date: "a date",
};

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

/** zod's internal definition, read only to list the keys an object allows. */
interface Def {
  type?: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  innerType?: unknown;
  options?: unknown[];
  in?: unknown;
  out?: unknown;
}

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** The keys the object schema(s) at `path` allow, for "unknown key … (allowed: …)". */
function allowedKeys(schema: unknown, path: Path): string[] {
  const found = new Set<string>();
  const walk = (s: unknown, rest: Path): void => {
    const def = defOf(s);
    if (!def) return;
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "readonly":
      case "nonoptional":
        walk(def.innerType, rest);
        return;
      case "pipe":
        walk(def.in, rest);
        return;
      case "union":
        for (const o of def.options ?? []) walk(o, rest);
        return;
      case "array":
        if (typeof rest[0] === "number") walk(def.element, rest.slice(1));
        return;
      case "object":
        if (rest.length === 0) for (const k of Object.keys(def.shape ?? {})) found.add(k);
        else walk(def.shape?.[String(rest[0])], rest.slice(1));
        return;
      default:
        return;
    }
  };
  walk(schema, path);
  return [...found];
}

export interface IssueContext {
  /** The validated value (to quote what was given). */
  root: unknown;
  /** The schema (to list allowed keys). */
  schema: unknown;
  /** How a path is named in the message (default: `scopes.subscriptions[0]`; env: the variable). */
  nameOf?: (path: Path) => string;
  /** More words for a missing key (suppressions: every entry needs reason and expires). */
  missingHint?: (path: Path) => string | undefined;
}

type Issue = z.core.$ZodIssue;

/** The branch of a failed union to explain: the one that got furthest into the value. */
function unionBranch(issue: Extract<Issue, { code: "invalid_union" }>): Issue[] | undefined {
  let best: Issue[] | undefined;
  let depth = 0;
  for (const branch of issue.errors) {
    const d = Math.max(0, ...branch.map((i) => i.path.length));
    if (d > depth) {
      depth = d;
      best = branch;
    }
  }
  return best;
}

/** One zod issue as a sentence without the file prefix, and the path it is about. */
export function describeIssue(issue: Issue, ctx: IssueContext, base: Path = []): { path: Path; text: string } {
  const path = [...base, ...issue.path];
  const name = (ctx.nameOf ?? formatPath)(path);
  const subject = name.length > 0 ? name : "the file";
  const input = valueAt(ctx.root, path);
  const got = ` (got ${showValue(input)})`;
  switch (issue.code) {
    case "invalid_value":
      return {
        path,
        text:
          issue.values.length === 1
            ? `${subject} must be ${showValue(issue.values[0])}${got}`
            : `${subject} must be one of ${issue.values.map(String).join(", ")}${got}`,
      };
    case "invalid_type": {
      if (input === undefined) {
        const hint = ctx.missingHint?.(path);
        return { path, text: `${subject} is required${hint ? ` (${hint})` : ""}` };
      }
      return { path, text: `${subject} must be ${EXPECTED[issue.expected] ?? issue.expected}${got}` };
    }
    case "unrecognized_keys": {
      const allowed = allowedKeys(ctx.schema, path);
      const where = name.length > 0 ? `${name} has` : "the file has";
      return {
        path: [...path, issue.keys[0] ?? ""],
        text: `${where} an unknown key '${oneLine(issue.keys[0] ?? "")}'${allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : ""}`,
      };
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      if (issue.origin === "string" && small && Number(bound) <= 1)
        return { path, text: `${subject} must not be empty` };
      if (issue.origin === "array")
        return { path, text: `${subject} must list ${small ? "at least" : "at most"} ${bound} item(s)` };
      return { path, text: `${subject} must be ${small ? "at least" : "at most"} ${bound}${got}` };
    }
    case "invalid_union": {
      const branch = unionBranch(issue);
      const first = branch?.[0];
      // Issues inside a union's branches have paths relative to the union.
      if (first) return describeIssue(first, ctx, path);
      const expected = issue.errors.flatMap((b) => {
        const i = b[0];
        if (i?.code === "invalid_type") return [EXPECTED[i.expected] ?? i.expected];
        if (i?.code === "invalid_value") return i.values.map(showValue);
        return [];
      });
      return { path, text: `${subject} must be ${[...new Set(expected)].join(" or ")}${got}` };
    }
    default:
      // Refinements carry their own words ("must be a date (YYYY-MM-DD) …").
      return {
        path,
        text: `${subject} ${issue.message}${input === null || typeof input === "object" || input === undefined ? "" : got}`,
      };
  }
}

/** Validates `src.value`; the first problem becomes one UsageError sentence with file and line. */
export function validateYaml<S extends z.ZodType>(
  schema: S,
  src: YamlSource,
  opts: Omit<IssueContext, "root" | "schema"> = {},
): z.output<S> {
  const parsed = schema.safeParse(src.value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as Issue;
  const { path, text } = describeIssue(issue, { ...opts, root: src.value, schema });
  const line = lineAt(src, path);
  const where = `${src.label}${line ? `:${line}` : ""}`;
  throw new UsageError(where.length > 0 ? `${where}: ${text}` : text);
}
