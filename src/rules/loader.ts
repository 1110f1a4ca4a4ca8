/**
 * Finds and loads rule files: parse (the Sigma model), the Azure processing pipeline, then the
 * in-process matcher. A broken rule is collected as a RuleError (file, line, problem) and the
 * others still load; duplicate ids are errors too, since findings key on them — except that a
 * user rule with a built-in rule's id replaces it (how a team tunes a built-in detection).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { learnOperationSpelling } from "../azure/catalog/canonical.js";
import { AZURE_FIELDS } from "../azure/fields.js";
import { AZURE_MATCHER_PIPELINE, isOperationField } from "../azure/pipeline.js";
import { type CompiledRule, compileRule, requiredValues } from "../matcher/compile.js";
import type { RecordKind } from "../model/records.js";
import { BUILTIN_RULES_DIR } from "../paths.js";
import type { CorrelationRule, DetectionRule, ResolvedCorrelation } from "../sigma/ast.js";
import { RuleError } from "../sigma/errors.js";
import { loadRuleFile, parseRules } from "../sigma/parse.js";
import type { ProcessedRule } from "../sigma/pipeline.js";
import { UsageError } from "../util/errors.js";
import { cap } from "../util/text.js";
import { isUnder } from "../util/user-path.js";
import { PROBE_BUDGET_MS, PROBE_LENGTH, probeRegexes, regexesOf } from "./redos.js";

export type { ResolvedCorrelation } from "../sigma/ast.js";

/** A detection rule ready for the engine: processed for Azure records and compiled. */
export interface EngineRule extends ProcessedRule {
  kind: RecordKind;
  matcher: CompiledRule;
  /** Lower-cased operation names one of which a record must have, or undefined = any. */
  operations?: Set<string>;
  /** A user rule: its time per record is watched, and past the budget it is disabled (engine.ts). */
  budgeted?: boolean;
}

/** The Azure pipeline and the matcher over one parsed rule; throws RuleError. */
export function prepareRule(rule: DetectionRule): EngineRule {
  const processed = AZURE_MATCHER_PIPELINE.apply(rule);
  const kind = processed.target as RecordKind;
  let matcher: CompiledRule;
  try {
    matcher = compileRule(processed, AZURE_FIELDS);
  } catch (e) {
    throw new RuleError(rule.file, rule.line, (e as Error).message);
  }
  const r: EngineRule = { ...processed, kind, matcher };
  const ops = requiredValues(processed, (f) => isOperationField(kind, f));
  if (ops) r.operations = ops;
  learnSpellings(processed, kind);
  return r;
}

/** The operation names a rule writes, as spellings reports may show (src/azure/catalog/canonical.ts). */
function learnSpellings(rule: ProcessedRule, kind: string): void {
  for (const sel of Object.values(rule.detection.selections)) {
    for (const alt of sel.alternatives) {
      for (const it of alt) {
        if (it.field === undefined || !isOperationField(kind, it.field)) continue;
        for (const v of it.values) {
          const strings = v.type === "string" ? [v] : v.type === "expansion" ? v.values : [];
          for (const s of strings) {
            if (s.parts.every((p) => typeof p === "string")) learnOperationSpelling(s.parts.join(""));
          }
        }
      }
    }
  }
}

/** Parses rule text (one file's worth) into engine rules and unresolved correlations. */
export function prepareText(text: string, file: string): { rules: EngineRule[]; correlations: CorrelationRule[] } {
  const parsed = parseRules(text, file);
  return { rules: parsed.rules.map(prepareRule), correlations: parsed.correlations };
}

export const RULE_FILE = /\.ya?ml$/i;
/** Embedded tests live beside their rule: `<name>.tests.yml`. */
export const TESTS_FILE = /\.tests\.ya?ml$/i;
/** The vector catalogue at the top of the pack; not a rule. */
export const VECTORS_FILE = "vectors.yml";

export async function listRuleFiles(dir: string): Promise<string[]> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    throw new UsageError(`rules directory does not exist: ${dir}`);
  }
  if (st.isFile()) return [dir];
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && RULE_FILE.test(e.name) && !TESTS_FILE.test(e.name) && e.name !== VECTORS_FILE) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

export interface LoadedRules {
  rules: EngineRule[];
  correlations: ResolvedCorrelation[];
  errors: RuleError[];
  /** Built-in rules a user rule with the same id replaced. */
  replaced?: ReplacedRule[];
}

export interface ReplacedRule {
  id: string;
  /** The user rule's file, and the built-in file it replaced. */
  file: string;
  builtin: string;
  title: string;
}

export interface LoadOptions {
  /** The built-in pack's directory: a rule from another directory with one of its ids replaces it. */
  builtin?: string;
}

export async function loadRules(dirs: readonly string[], opts: LoadOptions = {}): Promise<LoadedRules> {
  const rules: EngineRule[] = [];
  const correlations: CorrelationRule[] = [];
  const errors: RuleError[] = [];
  const replaced: ReplacedRule[] = [];
  const seen = new Map<string, string>();
  const isBuiltin = (f: string): boolean => opts.builtin !== undefined && isUnder(f, opts.builtin);
  const add = <T extends { id: string; line: number; title: string }>(list: T[], r: T, file: string) => {
    const other = seen.get(r.id);
    if (other && isBuiltin(other) && !isBuiltin(file)) {
      // Drop the built-in one, detection or correlation, wherever it is; references by id now reach the user's.
      for (const l of [rules, correlations] as { id: string; title: string }[][]) {
        const i = l.findIndex((x) => x.id === r.id);
        if (i >= 0) {
          replaced.push({ id: r.id, file, builtin: other, title: l[i]?.title ?? "" });
          l.splice(i, 1);
        }
      }
    } else if (other) {
      errors.push(new RuleError(file, r.line, `id ${r.id} is already used by ${other}`));
      return;
    }
    seen.set(r.id, file);
    list.push(r);
  };
  for (const dir of dirs) {
    const user = !isUnder(dir, BUILTIN_RULES_DIR);
    for (const file of await listRuleFiles(dir)) {
      try {
        const parsed = await loadRuleFile(file);
        // Every document must prepare before any is added: a file is one unit (its correlations
        // may name its other rules).
        const prepared = parsed.rules.map(prepareRule);
        if (user) await refuseBacktracking(prepared);
        for (const r of prepared) add(rules, r, file);
        for (const c of parsed.correlations) add(correlations, c, file);
      } catch (e) {
        if (e instanceof RuleError) errors.push(e);
        else errors.push(new RuleError(file, undefined, (e as Error).message));
      }
    }
  }
  return {
    rules,
    correlations: resolveCorrelations(rules, correlations, errors),
    errors,
    ...(replaced.length > 0 ? { replaced } : {}),
  };
}

/**
 * A user rule's regexes are tried against adversarial inputs before any record meets them
 * (src/rules/redos.ts); one that does not finish in the budget refuses the rule's file, with the
 * pattern named. The rules that load are watched per record (`budgeted`).
 */
async function refuseBacktracking(rules: EngineRule[]): Promise<void> {
  const probes = rules.flatMap((r) => regexesOf(r.detection).map((p) => ({ ...p, rule: r })));
  for (const r of rules) r.budgeted = true;
  if (probes.length === 0) return;
  for (const [i, res] of (await probeRegexes(probes)).entries()) {
    if (!res.timedOut) continue;
    const rule = (probes[i] as (typeof probes)[number]).rule;
    throw new RuleError(
      rule.file,
      rule.line,
      `rule ${rule.id}: regular expression '${cap(res.pattern, 120)}' backtracks catastrophically (it did not finish ${PROBE_LENGTH}-character adversarial inputs in ${PROBE_BUDGET_MS / 1000} s); rewrite it with bounded repetition`,
    );
  }
}

/**
 * Resolves correlation references: a name in the same file first (names are per-file in
 * Sigma), then an id anywhere, then a unique name anywhere. Broken references and cycles drop
 * the correlation with an error.
 */
export function resolveCorrelations(
  rules: EngineRule[],
  correlations: CorrelationRule[],
  errors: RuleError[],
): ResolvedCorrelation[] {
  const all: (EngineRule | CorrelationRule)[] = [...rules, ...correlations];
  const byId = new Map(all.map((r) => [r.id, r]));
  const resolved: ResolvedCorrelation[] = [];
  for (const c of correlations) {
    const refs: string[] = [];
    let broken: string | undefined;
    for (const ref of c.correlation.rules) {
      const lower = ref.toLowerCase();
      const local = all.filter((r) => r.file === c.file && r.name === ref);
      const global = all.filter((r) => r.name === ref);
      const hit = local[0] ?? byId.get(lower) ?? (global.length === 1 ? global[0] : undefined);
      if (!hit) {
        broken =
          global.length > 1
            ? `rule name '${ref}' is used by several rules; refer to it by id`
            : `references '${ref}', which is no loaded rule's id or name`;
        break;
      }
      if (hit.id === c.id) {
        broken = "references itself";
        break;
      }
      refs.push(hit.id);
    }
    for (const alias of Object.values(c.correlation.aliases)) {
      for (const ruleRef of Object.keys(alias)) {
        if (!c.correlation.rules.includes(ruleRef))
          broken ??= `alias names '${ruleRef}', which is not one of the correlation's rules`;
      }
    }
    if (broken) {
      errors.push(new RuleError(c.file, c.line, `correlation ${broken}`));
      continue;
    }
    resolved.push({ ...c, refs });
  }
  // Correlations may chain; a cycle would never settle.
  const ids = new Set(resolved.map((c) => c.id));
  const graph = new Map(resolved.map((c) => [c.id, c.refs.filter((r) => ids.has(r))]));
  const visiting = new Set<string>();
  const cyclic = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    if (visiting.has(id)) {
      for (const p of path.slice(path.indexOf(id))) cyclic.add(p);
      return;
    }
    visiting.add(id);
    for (const next of graph.get(id) ?? []) visit(next, [...path, id]);
    visiting.delete(id);
  };
  for (const id of ids) visit(id, []);
  for (const c of resolved.filter((x) => cyclic.has(x.id)))
    errors.push(new RuleError(c.file, c.line, "correlation is part of a reference cycle"));
  return resolved.filter((c) => !cyclic.has(c.id));
}
