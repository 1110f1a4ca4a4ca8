/**
 * Sigma rule files (specification 2.0) → the rule model (ast.ts). One rule per YAML document;
 * a problem is a RuleError with file and line, so one broken rule never stops the others.
 * Nothing here knows which product the rules are for: logsources, field names and values are
 * kept as written, for a processing pipeline and a backend to interpret.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Document, isMap, LineCounter, parseAllDocuments } from "yaml";
import type {
  CorrelationRule,
  CorrelationType,
  Detection,
  DetectionItem,
  DetectionRule,
  Logsource,
  RuleMeta,
  Selection,
} from "./ast.js";
import { type CondNode, parseCondition } from "./condition.js";
import { parseDuration } from "./duration.js";
import { DetectionError, RuleError } from "./errors.js";
import { type Fail, parseExtensions } from "./extensions.js";
import { buildValues, ModifierError } from "./modifiers.js";

const LEVELS = ["informational", "low", "medium", "high", "critical"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ATT&CK tag → technique id (attack.t1059.009 → T1059.009) or tactic (attack.execution). */
function splitTags(tags: string[]): { techniques: string[]; tactics: string[] } {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const t of tags) {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
    if (m) techniques.push((m[1] as string).toUpperCase());
    else if (/^attack\.[a-z_-]+$/i.test(t) && !/^attack\.[gs]\d{4}$/i.test(t)) {
      tactics.push(t.slice(7).toLowerCase().replace(/_/g, "-"));
    }
  }
  return { techniques, tactics };
}

function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === "object" && node.range) return counter.linePos(node.range[0]).line;
    // Keys: find the pair so that the key's own line is reported.
    const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents;
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown })?.value === path[n - 1]);
      const k = pair?.key as { range?: [number, number, number] } | undefined;
      if (k?.range) return counter.linePos(k.range[0]).line;
    }
  }
  return undefined;
}

export interface ParsedRuleFile {
  rules: DetectionRule[];
  correlations: CorrelationRule[];
}

export async function loadRuleFile(file: string): Promise<ParsedRuleFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new RuleError(
      file,
      undefined,
      `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return parseRules(text, file);
}

export function parseRules(text: string, file: string): ParsedRuleFile {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  if (!Array.isArray(docs)) throw new RuleError(file, undefined, "is empty");
  const rules: DetectionRule[] = [];
  const correlations: CorrelationRule[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      const line = err?.pos ? counter.linePos(err.pos[0]).line : undefined;
      throw new RuleError(file, line, `is not valid YAML: ${err?.message.split("\n")[0]}`);
    }
    if (doc.contents === null) continue;
    const y = doc.toJS({ maxAliasCount: 50 }) as unknown;
    const fail: Fail = (path, problem) => {
      throw new RuleError(file, lineOf(doc, counter, path), problem);
    };
    if (y && typeof y === "object" && !Array.isArray(y) && "correlation" in y) {
      correlations.push(toCorrelation(y as Record<string, unknown>, doc, counter, file, fail));
    } else {
      rules.push(toRule(y as Record<string, unknown>, doc, counter, file, fail));
    }
  }
  if (rules.length === 0 && correlations.length === 0) throw new RuleError(file, undefined, "holds no rule");
  if (correlations.length > 0 && !correlations.some((c) => c.correlation.generate)) {
    // Sigma: rules that only feed a correlation in their file are not alerts of their own.
    for (const r of rules) r.private = true;
  }
  return { rules, correlations };
}

const CONDITION_OPS = ["gt", "gte", "lt", "lte", "eq"] as const;
const CORRELATION_TYPES: readonly CorrelationType[] = ["event_count", "value_count", "temporal", "temporal_ordered"];

function toCorrelation(
  y: Record<string, unknown>,
  doc: Document,
  counter: LineCounter,
  file: string,
  fail: Fail,
): CorrelationRule {
  const meta = parseMeta(y, doc, counter, file, fail, "correlation");
  const c = y.correlation as Record<string, unknown>;
  if (!c || typeof c !== "object" || Array.isArray(c)) fail(["correlation"], "'correlation' must be a map");
  const type = c.type as CorrelationType;
  if (!CORRELATION_TYPES.includes(type)) {
    fail(
      ["correlation", "type"],
      `correlation type must be one of ${CORRELATION_TYPES.join(", ")}, got '${String(c.type)}'`,
    );
  }
  const rules = c.rules;
  if (!Array.isArray(rules) || rules.length === 0 || rules.some((r) => typeof r !== "string")) {
    fail(["correlation", "rules"], "correlation 'rules' must list rule ids or names");
  }
  const groupByRaw = c["group-by"] ?? [];
  const groupBy = (typeof groupByRaw === "string" ? [groupByRaw] : groupByRaw) as unknown[];
  if (!Array.isArray(groupBy) || groupBy.some((g) => typeof g !== "string")) {
    fail(["correlation", "group-by"], "'group-by' must be a list of field names");
  }
  const timespanMs = parseDuration(String(c.timespan ?? ""));
  if (timespanMs === undefined) fail(["correlation", "timespan"], "'timespan' must be a duration like 10m, 1h or 1d");
  const condition: CorrelationRule["correlation"]["condition"] = {};
  let field: string | undefined;
  const cond = c.condition;
  if (cond !== undefined) {
    if (!cond || typeof cond !== "object" || Array.isArray(cond))
      fail(["correlation", "condition"], "'condition' must be a map like {gte: 10}");
    for (const [k, v] of Object.entries(cond as Record<string, unknown>)) {
      if (k === "field") {
        if (typeof v !== "string")
          fail(["correlation", "condition", "field"], "'condition.field' must be a field name");
        field = v as string;
      } else if ((CONDITION_OPS as readonly string[]).includes(k)) {
        if (typeof v !== "number") fail(["correlation", "condition", k], `'condition.${k}' must be a number`);
        condition[k as (typeof CONDITION_OPS)[number]] = v as number;
      } else {
        fail(
          ["correlation", "condition", k],
          `unknown condition '${k}' (use gt, gte, lt, lte, eq${type === "value_count" ? " and field" : ""})`,
        );
      }
    }
  }
  if ((type === "event_count" || type === "value_count") && Object.keys(condition).length === 0) {
    fail(["correlation", "condition"], `${type} needs a condition such as {gte: 10}`);
  }
  if (type === "value_count" && !field) fail(["correlation", "condition"], "value_count needs 'condition.field'");
  const aliases: Record<string, Record<string, string>> = {};
  if (c.aliases !== undefined) {
    if (!c.aliases || typeof c.aliases !== "object" || Array.isArray(c.aliases))
      fail(["correlation", "aliases"], "'aliases' must be a map");
    for (const [alias, m] of Object.entries(c.aliases as Record<string, unknown>)) {
      if (!m || typeof m !== "object" || Array.isArray(m) || Object.values(m).some((v) => typeof v !== "string")) {
        fail(["correlation", "aliases", alias], `alias '${alias}' must map rule names to field names`);
      }
      aliases[alias] = m as Record<string, string>;
    }
  }
  const generate = (c.generate ?? y.generate) === true;
  // Only an ordered chain has a first step for the later ones to be judged against.
  if (meta.ext.steps && type !== "temporal_ordered")
    fail(["steps"], "'steps' applies to temporal_ordered correlations only");
  return {
    ...meta,
    type: "correlation",
    correlation: {
      type,
      rules: rules as string[],
      groupBy: groupBy as string[],
      timespanMs: timespanMs as number,
      condition,
      field,
      aliases,
      generate,
    },
  };
}

/** Metadata shared by detection and correlation rules. */
function parseMeta(
  y: Record<string, unknown>,
  doc: Document,
  counter: LineCounter,
  file: string,
  fail: Fail,
  type: "detection" | "correlation",
): RuleMeta {
  if (!y || typeof y !== "object" || Array.isArray(y)) fail([], "must be a YAML map");
  const str = (k: string, required: boolean): string | undefined => {
    const v = y[k];
    if (v === undefined || v === null) {
      if (required) fail([k], `needs '${k}'`);
      return undefined;
    }
    if (typeof v !== "string" && !(v instanceof Date)) fail([k], `'${k}' must be a string`);
    return v instanceof Date ? v.toISOString().slice(0, 10) : (v as string);
  };
  const strList = (k: string): string[] => {
    const v = y[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) fail([k], `'${k}' must be a list of strings`);
    return v as string[];
  };
  const title = str("title", true) as string;
  const idRaw = str("id", false);
  if (idRaw !== undefined && !UUID.test(idRaw)) fail(["id"], `'id' must be a UUID, got '${idRaw}'`);
  const levelRaw = str("level", false)?.toLowerCase();
  if (levelRaw !== undefined && !(LEVELS as readonly string[]).includes(levelRaw)) {
    fail(["level"], `'level' must be informational, low, medium, high or critical, got '${levelRaw}'`);
  }
  const tags = strList("tags");
  const { techniques, tactics } = splitTags(tags);
  const ext = parseExtensions(y, type, fail);
  const name = str("name", false);
  return {
    file,
    line: lineOf(doc, counter, ["title"]) ?? 1,
    id: (idRaw ?? derivedId(file, name ?? title)).toLowerCase(),
    name,
    title,
    status: str("status", false),
    description: str("description", false),
    references: strList("references"),
    author: str("author", false),
    date: str("date", false),
    tags,
    techniques,
    tactics,
    level: (levelRaw ?? "medium") as RuleMeta["level"],
    levelGiven: levelRaw !== undefined,
    idGiven: idRaw !== undefined,
    falsepositives: strList("falsepositives"),
    ext,
  };
}

/** A stable UUID-shaped id for a rule that has none, so its findings keep their ids across scans. */
function derivedId(file: string, title: string): string {
  const h = createHash("sha256")
    .update(`${basename(file)}\u001f${title}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function toRule(
  y: Record<string, unknown>,
  doc: Document,
  counter: LineCounter,
  file: string,
  fail: Fail,
): DetectionRule {
  const meta = parseMeta(y, doc, counter, file, fail, "detection");
  const ls = y.logsource;
  if (!ls || typeof ls !== "object" || Array.isArray(ls)) fail(["logsource"], "needs a 'logsource' map");
  const l = ls as Record<string, unknown>;
  const logsource: Logsource = {};
  for (const k of ["product", "service", "category"] as const)
    if (typeof l[k] === "string") logsource[k] = l[k] as string;
  const det = y.detection;
  if (!det || typeof det !== "object" || Array.isArray(det)) fail(["detection"], "needs a 'detection' map");
  let detection: Detection;
  try {
    detection = parseDetection(det as Record<string, unknown>);
  } catch (e) {
    if (e instanceof DetectionError) return fail(e.path, e.message);
    throw e;
  }
  const lines: DetectionRule["lines"] = {};
  const lsLine = lineOf(doc, counter, ["logsource"]);
  const detLine = lineOf(doc, counter, ["detection"]);
  if (lsLine) lines.logsource = lsLine;
  if (detLine) lines.detection = detLine;
  return { ...meta, type: "detection", logsource, lines, detection };
}

/** The detection section: named selections and the condition trees over them. */
export function parseDetection(detection: Record<string, unknown>): Detection {
  const names = Object.keys(detection).filter((k) => k !== "condition" && k !== "timeframe");
  const selections: Record<string, Selection> = {};
  for (const name of names) selections[name] = parseSelection(name, detection[name], ["detection", name]);
  const rawCond = detection.condition;
  const conds = Array.isArray(rawCond) ? rawCond : [rawCond];
  if (conds.length === 0 || conds.some((c) => typeof c !== "string" || c.trim() === "")) {
    throw new DetectionError("detection needs a condition (a string)", ["detection", "condition"]);
  }
  const conditions: CondNode[] = [];
  for (const c of conds as string[]) {
    try {
      conditions.push(parseCondition(c, names));
    } catch (e) {
      throw new DetectionError((e as Error).message, ["detection", "condition"]);
    }
  }
  return { selections, conditions };
}

function parseSelection(name: string, value: unknown, path: (string | number)[]): Selection {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new DetectionError("an empty list matches nothing; remove it", path);
    if (value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))) {
      // A list of maps: OR.
      return { name, alternatives: value.map((m, i) => parseMap(m as Record<string, unknown>, [...path, i])) };
    }
    if (value.some((v) => v !== null && typeof v === "object")) {
      throw new DetectionError("a selection list must hold either maps or plain keywords, not both", path);
    }
    return { name, alternatives: [[keywords(value, [], path)]] };
  }
  if (value !== null && typeof value === "object")
    return { name, alternatives: [parseMap(value as Record<string, unknown>, path)] };
  if (typeof value === "string" || typeof value === "number")
    return { name, alternatives: [[keywords([value], [], path)]] };
  throw new DetectionError("a selection must be a map, a list of maps or a list of keywords", path);
}

function item(
  field: string | undefined,
  values: unknown[],
  modifiers: string[],
  path: (string | number)[],
): DetectionItem {
  try {
    const built = buildValues(values, modifiers);
    const it: DetectionItem = { modifiers, values: built.values, linking: built.flags.all ? "and" : "or", path };
    if (field !== undefined) it.field = field;
    return it;
  } catch (e) {
    if (e instanceof ModifierError)
      throw new DetectionError(field ? `field '${field}': ${e.message}` : e.message, path);
    throw e;
  }
}

/** Keywords search every string of a record; plain keywords mean `contains`. */
function keywords(values: unknown[], modifiers: string[], path: (string | number)[]): DetectionItem {
  return item(undefined, values, modifiers.length > 0 ? modifiers : ["contains"], path);
}

function parseMap(map: Record<string, unknown>, path: (string | number)[]): DetectionItem[] {
  const items: DetectionItem[] = [];
  for (const [key, raw] of Object.entries(map)) {
    const [field, ...mods] = key.split("|");
    const p = [...path, key];
    const values = Array.isArray(raw) ? raw : [raw];
    if (!field) {
      // `|contains: [...]` with no field name: a keyword search with modifiers.
      items.push(
        keywords(
          values,
          mods.map((m) => m.toLowerCase()),
          p,
        ),
      );
      continue;
    }
    if (values.length === 0) throw new DetectionError(`field '${field}' has an empty value list`, p);
    items.push(
      item(
        field,
        values,
        mods.map((m) => m.toLowerCase()),
        p,
      ),
    );
  }
  return items;
}
