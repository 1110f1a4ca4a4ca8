/**
 * Sigma rule files (specification 2.0) → SigmaRule. One detection rule per YAML document; a
 * problem is reported as RuleError with the file and line, so one broken rule never stops the
 * others. Extensions (documented in docs/rules.md) are top-level attributes Sigma tools ignore:
 * `atrm` (Azure Threat Research Matrix ids) and `firstseen` (baseline-relative novelty).
 */
import { readFile } from "node:fs/promises";
import { type Document, isMap, LineCounter, parseAllDocuments } from "yaml";
import { isSeverity, type Severity } from "../../model/finding.js";
import type { RecordKind } from "../../model/records.js";
import { type CompiledDetection, compileDetection, DetectionError } from "./compile.js";
import { kindForLogsource, type Logsource } from "./fields.js";

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

export interface SigmaRule {
  file: string;
  line: number;
  id: string;
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
  /** Vector catalogue ids (detections/vectors.yml) this rule covers. */
  vectors: number[];
  logsource: Logsource;
  kind: RecordKind;
  level: Severity;
  falsepositives: string[];
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

export async function loadRuleFile(file: string): Promise<SigmaRule[]> {
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

export function parseRules(text: string, file: string): SigmaRule[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  if (!Array.isArray(docs)) throw new RuleError(file, undefined, "is empty");
  const rules: SigmaRule[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      const line = err?.pos ? counter.linePos(err.pos[0]).line : undefined;
      throw new RuleError(file, line, `is not valid YAML: ${err?.message.split("\n")[0]}`);
    }
    if (doc.contents === null) continue;
    rules.push(toRule(doc, counter, file));
  }
  if (rules.length === 0) throw new RuleError(file, undefined, "holds no rule");
  return rules;
}

function toRule(doc: Document, counter: LineCounter, file: string): SigmaRule {
  const fail = (path: (string | number)[], problem: string): never => {
    throw new RuleError(file, lineOf(doc, counter, path), problem);
  };
  const y = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown>;
  if (!y || typeof y !== "object" || Array.isArray(y)) fail([], "must be a YAML map");
  if ("correlation" in y) fail(["correlation"], "correlation rules are not supported yet (planned: issue 3)");
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
  const id = str("id", true) as string;
  if (!UUID.test(id)) fail(["id"], `'id' must be a UUID, got '${id}'`);
  const levelRaw = (str("level", true) as string).toLowerCase();
  if (!isSeverity(levelRaw))
    fail(["level"], `'level' must be informational, low, medium, high or critical, got '${levelRaw}'`);
  const level = levelRaw as Severity;
  const ls = y.logsource;
  if (!ls || typeof ls !== "object" || Array.isArray(ls)) fail(["logsource"], "needs a 'logsource' map");
  const logsource = ls as Logsource;
  const kind = kindForLogsource(logsource);
  if (!kind) {
    fail(
      ["logsource"],
      `logsource product '${logsource.product ?? ""}' service '${logsource.service ?? ""}' is not one this tool reads (product: azure; service: activitylogs, roleassignments, roledefinitions, functionapps, images, resources or payloads)`,
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
  const tags = strList("tags");
  const { techniques, tactics } = splitTags(tags);
  const atrm = strList("atrm");
  for (const a of atrm) if (!/^AZT\d{3}(\.\d+)?$/.test(a)) fail(["atrm"], `'atrm' ids look like AZT301.1, got '${a}'`);
  const vectorsRaw = y.vectors ?? [];
  if (!Array.isArray(vectorsRaw) || vectorsRaw.some((v) => !Number.isInteger(v) || (v as number) < 1)) {
    fail(["vectors"], "'vectors' must be a list of vector numbers from detections/vectors.yml");
  }
  const vectors = vectorsRaw as number[];
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
    file,
    line: lineOf(doc, counter, ["title"]) ?? 1,
    id: id.toLowerCase(),
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
    vectors,
    logsource,
    kind: kind as RecordKind,
    level,
    falsepositives: strList("falsepositives"),
    firstseen,
    detection,
  };
}
