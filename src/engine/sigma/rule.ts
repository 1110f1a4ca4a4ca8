/**
 * Sigma rule files (specification 2.0) → SigmaRule. One detection rule per YAML document; a
 * problem is reported as RuleError with the file and line, so one broken rule never stops the
 * others. Extensions (documented in docs/rules.md) are top-level attributes Sigma tools ignore:
 * `atrm` (Azure Threat Research Matrix ids) and `firstseen` (baseline-relative novelty).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Document, isMap, LineCounter, parseAllDocuments } from "yaml";
import { isSeverity, type Severity } from "../../model/finding.js";
import type { RecordKind } from "../../model/records.js";
import { type CompiledDetection, compileDetection, DetectionError } from "./compile.js";
import { kindForLogsource, type Logsource, SERVICES } from "./fields.js";

export class RuleError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ""}: ${problem}`);
  }
}

export interface FirstSeen {
  /** Fields whose combined value must be new (absent from the baseline). */
  fields: string[];
  /** Length of the learning period at the start of the window, in ms. */
  learningMs: number;
}

export interface RuleMeta {
  file: string;
  line: number;
  id: string;
  /** Sigma `name`: how correlation rules may refer to this rule. */
  name?: string;
  title: string;
  status?: string;
  description?: string;
  references: string[];
  author?: string;
  date?: string;
  tags: string[];
  techniques: string[];
  tactics: string[];
  atrm: string[];
  vectors: number[];
  level: Severity;
  /** False when `level` was absent (lint reports it for the built-in pack). */
  levelGiven: boolean;
  /** False when `id` was absent and a stable one was derived from file and title. */
  idGiven: boolean;
  falsepositives: string[];
}

export type CorrelationType = "event_count" | "value_count" | "temporal" | "temporal_ordered";

export interface CorrelationRule extends RuleMeta {
  correlation: {
    type: CorrelationType;
    /** Referenced rules by id or name, as written. */
    rules: string[];
    groupBy: string[];
    timespanMs: number;
    /** e.g. { gte: 3 } (several criteria are ANDed); temporal types default to "all rules". */
    condition: Partial<Record<"gt" | "gte" | "lt" | "lte" | "eq", number>>;
    /** value_count: the field whose distinct values are counted. */
    field?: string;
    /** alias → rule name or id → field. */
    aliases: Record<string, Record<string, string>>;
    generate: boolean;
  };
}

export interface SigmaRule extends RuleMeta {
  logsource: Logsource;
  kind: RecordKind;
  /** Defined only to feed a correlation in the same file: produces no findings of its own. */
  private?: boolean;
  firstseen?: FirstSeen;
  detection: CompiledDetection;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DURATION = /^(\d+)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : undefined;
}

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
  rules: SigmaRule[];
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
  const rules: SigmaRule[] = [];
  const correlations: CorrelationRule[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      const line = err?.pos ? counter.linePos(err.pos[0]).line : undefined;
      throw new RuleError(file, line, `is not valid YAML: ${err?.message.split("\n")[0]}`);
    }
    if (doc.contents === null) continue;
    const y = doc.toJS({ maxAliasCount: 50 }) as unknown;
    if (y && typeof y === "object" && !Array.isArray(y) && "correlation" in y) {
      correlations.push(toCorrelation(doc, counter, file));
    } else {
      rules.push(toRule(doc, counter, file));
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

function toCorrelation(doc: Document, counter: LineCounter, file: string): CorrelationRule {
  const fail = (path: (string | number)[], problem: string): never => {
    throw new RuleError(file, lineOf(doc, counter, path), problem);
  };
  const y = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown>;
  const meta = parseMeta(y, doc, counter, file);
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
  return {
    ...meta,
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
function parseMeta(y: Record<string, unknown>, doc: Document, counter: LineCounter, file: string): RuleMeta {
  const fail = (path: (string | number)[], problem: string): never => {
    throw new RuleError(file, lineOf(doc, counter, path), problem);
  };
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
  if (levelRaw !== undefined && !isSeverity(levelRaw)) {
    fail(["level"], `'level' must be informational, low, medium, high or critical, got '${levelRaw}'`);
  }
  const tags = strList("tags");
  const { techniques, tactics } = splitTags(tags);
  const atrm = strList("atrm");
  for (const a of atrm) if (!/^AZT\d{3}(\.\d+)?$/.test(a)) fail(["atrm"], `'atrm' ids look like AZT301.1, got '${a}'`);
  const vectorsRaw = y.vectors ?? [];
  if (!Array.isArray(vectorsRaw) || vectorsRaw.some((v) => !Number.isInteger(v) || (v as number) < 1)) {
    fail(["vectors"], "'vectors' must be a list of vector numbers from detections/vectors.yml");
  }
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
    atrm,
    vectors: vectorsRaw as number[],
    level: (levelRaw ?? "medium") as Severity,
    levelGiven: levelRaw !== undefined,
    idGiven: idRaw !== undefined,
    falsepositives: strList("falsepositives"),
  };
}

/** A stable UUID-shaped id for a rule that has none, so its findings keep their ids across scans. */
function derivedId(file: string, title: string): string {
  const h = createHash("sha256")
    .update(`${basename(file)}\u001f${title}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function toRule(doc: Document, counter: LineCounter, file: string): SigmaRule {
  const fail = (path: (string | number)[], problem: string): never => {
    throw new RuleError(file, lineOf(doc, counter, path), problem);
  };
  const y = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown>;
  const meta = parseMeta(y, doc, counter, file);
  const ls = y.logsource;
  if (!ls || typeof ls !== "object" || Array.isArray(ls)) fail(["logsource"], "needs a 'logsource' map");
  const logsource = ls as Logsource;
  const kind = kindForLogsource(logsource);
  if (!kind) {
    fail(
      ["logsource"],
      `logsource product '${logsource.product ?? ""}' service '${logsource.service ?? ""}' is not one this tool reads (product: azure; service: ${Object.keys(SERVICES).join(", ")})`,
    );
  }
  const det = y.detection;
  if (!det || typeof det !== "object" || Array.isArray(det)) fail(["detection"], "needs a 'detection' map");
  let detection: CompiledDetection;
  try {
    detection = compileDetection(det as Record<string, unknown>, kind as RecordKind);
  } catch (e) {
    if (e instanceof DetectionError) return fail(e.path, e.message);
    throw e;
  }
  let firstseen: FirstSeen | undefined;
  if (y.firstseen !== undefined) {
    const f = y.firstseen as Record<string, unknown>;
    const fields = Array.isArray(f?.fields) ? (f.fields as unknown[]) : undefined;
    if (!fields || fields.length === 0 || fields.some((x) => typeof x !== "string")) {
      fail(["firstseen", "fields"], "'firstseen.fields' must be a non-empty list of field names");
    }
    const learningMs = parseDuration(String(f.learning ?? "7d"));
    if (learningMs === undefined)
      fail(["firstseen", "learning"], "'firstseen.learning' must be a duration like 7d or 12h");
    firstseen = { fields: fields as string[], learningMs: learningMs as number };
  }
  return {
    ...meta,
    logsource,
    kind: kind as RecordKind,
    firstseen,
    detection,
  };
}
