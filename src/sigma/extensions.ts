/**
 * Parsers for the attributes this project adds to Sigma (docs/rules.md): `atrm`, `vectors` and
 * `firstseen`, and `steps` on correlations. Each is a small parser keyed by its attribute; a rule without the attribute gets
 * the parser's default. Sigma tools ignore unknown top-level attributes, so rules stay portable.
 */
import type { ChainSteps, FirstSeen, RuleExtensions } from "./ast.js";
import { parseDuration } from "./duration.js";

/** Reports a problem at a path inside the rule document (for the line number). */
export type Fail = (path: (string | number)[], problem: string) => never;

export interface ExtensionParser<K extends keyof RuleExtensions> {
  key: K;
  /** Which rule types carry it. */
  appliesTo: "detection" | "correlation" | "any";
  parse(value: unknown, fail: Fail): RuleExtensions[K];
}

const atrm: ExtensionParser<"atrm"> = {
  key: "atrm",
  appliesTo: "any",
  parse(v, fail) {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail(["atrm"], "'atrm' must be a list of strings");
    for (const a of v as string[])
      if (!/^AZT\d{3}(\.\d+)?$/.test(a)) fail(["atrm"], `'atrm' ids look like AZT301.1, got '${a}'`);
    return v as string[];
  },
};

const vectors: ExtensionParser<"vectors"> = {
  key: "vectors",
  appliesTo: "any",
  parse(v, fail) {
    const list = v ?? [];
    if (!Array.isArray(list) || list.some((x) => !Number.isInteger(x) || (x as number) < 1)) {
      fail(["vectors"], "'vectors' must be a list of vector numbers from detections/vectors.yml");
    }
    return list as number[];
  },
};

const firstseen: ExtensionParser<"firstseen"> = {
  key: "firstseen",
  appliesTo: "detection",
  parse(v, fail): FirstSeen | undefined {
    if (v === undefined) return undefined;
    const f = (v ?? {}) as Record<string, unknown>;
    const fields = Array.isArray(f.fields) ? (f.fields as unknown[]) : undefined;
    if (!fields || fields.length === 0 || fields.some((x) => typeof x !== "string")) {
      fail(["firstseen", "fields"], "'firstseen.fields' must be a non-empty list of field names");
    }
    const learningMs = parseDuration(String(f.learning ?? "7d"));
    if (learningMs === undefined)
      fail(["firstseen", "learning"], "'firstseen.learning' must be a duration like 7d or 12h");
    return { fields: fields as string[], learningMs: learningMs as number };
  },
};

const steps: ExtensionParser<"steps"> = {
  key: "steps",
  appliesTo: "correlation",
  parse(v, fail): ChainSteps | undefined {
    if (v === undefined) return undefined;
    const s = (v ?? {}) as Record<string, unknown>;
    if (s.keep !== "notable") fail(["steps", "keep"], "'steps.keep' must be 'notable'");
    const fields = Array.isArray(s["new-for"]) ? (s["new-for"] as unknown[]) : undefined;
    if (!fields || fields.length === 0 || fields.some((x) => typeof x !== "string")) {
      fail(["steps", "new-for"], "'steps.new-for' must be a non-empty list of field names");
    }
    const out: ChainSteps = { keep: "notable", newFor: fields as string[] };
    if (s.first !== undefined) {
      if (s.first !== "new") fail(["steps", "first"], "'steps.first' must be 'new'");
      const learningMs = parseDuration(String(s.learning ?? "7d"));
      if (learningMs === undefined) fail(["steps", "learning"], "'steps.learning' must be a duration like 7d or 12h");
      out.first = { learningMs: learningMs as number };
    } else if (s.learning !== undefined) fail(["steps", "learning"], "'steps.learning' applies with 'first: new'");
    return out;
  },
};

/** What the registry needs of a parser, whatever its key's type. */
interface AnyParser {
  key: string;
  appliesTo: "detection" | "correlation" | "any";
  parse(value: unknown, fail: Fail): unknown;
}

const REGISTRY: AnyParser[] = [atrm, vectors, firstseen, steps];

/** Adds a parser for a new attribute (declare its type by merging into RuleExtensions). */
export function registerExtension<K extends keyof RuleExtensions>(p: ExtensionParser<K>): void {
  if (REGISTRY.some((x) => x.key === p.key)) throw new Error(`extension '${String(p.key)}' is already registered`);
  REGISTRY.push(p);
}

/** Runs every registered extension parser over a rule document's top-level attributes. */
export function parseExtensions(
  doc: Record<string, unknown>,
  type: "detection" | "correlation",
  fail: Fail,
): RuleExtensions {
  const ext: Record<string, unknown> = {};
  for (const p of REGISTRY) {
    if (p.appliesTo !== "any" && p.appliesTo !== type) continue;
    const v = p.parse(doc[p.key], fail);
    if (v !== undefined) ext[p.key] = v;
  }
  return { atrm: [], vectors: [], ...ext } as RuleExtensions;
}
