/**
 * The orchestrator: plan every collector (usage errors before anything is read), load rules,
 * stream each collector's records through the record pipeline, and assemble the ScanResult with
 * coverage from the one shared tally. Side effects (clock, ids) are injectable for tests.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { prefilterFor } from "../azure/prefilter.js";
import { CoverageTally } from "../collectors/tally.js";
import { type CollectionPlan, type Collector, WINDOWED_SOURCES } from "../collectors/types.js";
import type { BaselineHistory } from "../engine/engine.js";
import type { EngineLimits, EngineState } from "../engine/state.js";
import { compareDiagnostics, DIAGNOSTIC_CODES, Diagnostics } from "../model/diagnostics.js";
import type { NotObservable, RuleSummary, ScanResult, ScanStats } from "../model/finding.js";
import type { AuditRecord } from "../model/records.js";
import { BUILTIN_RULES_DIR } from "../paths.js";
import { loadVectors } from "../rules/lint.js";
import {
  type EngineRule,
  type LoadedRules,
  loadRules,
  type ResolvedCorrelation,
  VECTORS_FILE,
} from "../rules/loader.js";
import { type RuleSelection, selectRules } from "../rules/select.js";
import type { RuleError } from "../sigma/errors.js";
import { readKind } from "../store/lifecycle.js";
import { RecordPipeline } from "./pipeline.js";

export interface ScanOptions {
  collectors: Collector[];
  /** Extra rule directories (user rules), loaded after the built-in pack. */
  ruleDirs?: string[];
  /** Called after each batch of records (a terminal's progress line); must be cheap. */
  onProgress?: (p: ScanProgress) => void;
  /** --enable / --disable (src/rules/select.ts). */
  select?: RuleSelection;
  /** Replace the built-in pack entirely (tests, `rules test`). */
  onlyRuleDirs?: boolean;
  now?: () => Date;
  newId?: () => string;
  abortSignal?: AbortSignal;
  state?: EngineState;
  /** The span the baselines in `state` already cover (the state store's; see engine.ts withHistory). */
  history?: BaselineHistory;
  limits?: Partial<EngineLimits>;
  /** Rules already loaded (the bench and tests scan many times with one pack). */
  loaded?: LoadedRules;
  /** Read every line in full even when no rule can use it (for tests that compare the two). */
  noPrefilter?: boolean;
  /**
   * Incremental scans (the state store's): Activity Log events of windowed sources that an
   * earlier scan read in its overlap are skipped; the others are offered to `read`.
   */
  overlap?: { seen(id: string): boolean; read(id: string, time: string): void };
}

export interface ScanProgress {
  records: number;
  /** Coverage scopes opened so far (inputs, subscriptions, …). */
  sources: number;
  /** Rule matches so far (findings group them). */
  matches: number;
}

export interface ScanOutcome {
  result: ScanResult & { stats: ScanStats };
  ruleErrors: RuleError[];
  /**
   * Kinds of record the collectors gave (a pre-filtered observation counts as `activity`): the
   * state store resolves a finding only when its kind of source was read (src/store/lifecycle.ts).
   */
  readKinds: Set<string>;
}

export function summarize(rule: EngineRule | ResolvedCorrelation): RuleSummary {
  const s: RuleSummary = {
    id: rule.id,
    title: rule.title,
    level: rule.level,
    techniques: rule.techniques,
    tactics: rule.tactics,
    file: rule.file,
  };
  if (rule.description) s.description = rule.description;
  if (rule.ext.atrm.length > 0) s.atrm = rule.ext.atrm;
  if (rule.ext.vectors.length > 0) s.vectors = rule.ext.vectors;
  if (rule.falsepositives.length > 0) s.falsepositives = rule.falsepositives;
  if (rule.references.length > 0) s.references = rule.references;
  return s;
}

/** The earliest declared start among the plans: first-seen learning starts there. */
function windowFrom(plans: CollectionPlan[]): string | undefined {
  return plans
    .map((p) => p.window?.from)
    .filter((x): x is string => !!x)
    .sort()[0];
}

/** The built-in pack's vectors that leave no evidence this tool reads (detections/vectors.yml). */
function notObservable(): NotObservable[] {
  const file = join(BUILTIN_RULES_DIR, VECTORS_FILE);
  if (!existsSync(file)) return [];
  return loadVectors(file)
    .filter((v) => (v.evidence ?? []).length === 0)
    .map((v) => ({ vector: v.id, name: v.name, technique: v.technique }));
}

export async function runScan(opts: ScanOptions): Promise<ScanOutcome> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const plans: CollectionPlan[] = [];
  for (const c of opts.collectors) plans.push(await c.plan({ abortSignal: opts.abortSignal }));
  const dirs = opts.onlyRuleDirs ? (opts.ruleDirs ?? []) : [BUILTIN_RULES_DIR, ...(opts.ruleDirs ?? [])];
  const all = opts.loaded ?? (await loadRules(dirs, opts.onlyRuleDirs ? {} : { builtin: BUILTIN_RULES_DIR }));
  const selected = opts.select ? selectRules(all, opts.select) : { loaded: all };
  const { rules, correlations, errors } = selected.loaded;
  const diagnostics = new Diagnostics();
  for (const r of all.replaced ?? [])
    diagnostics.add({
      code: DIAGNOSTIC_CODES.ruleReplaced,
      message: `rule ${r.id} (${r.title}) of the built-in pack is replaced by ${r.file}`,
      location: { file: r.file },
      ruleId: r.id,
    });
  if (selected.note) diagnostics.add({ code: DIAGNOSTIC_CODES.ruleDisabled, message: selected.note });
  // A broken rule is a detection gap, not unread data: it is reported, and the scan stays complete.
  for (const e of errors) {
    diagnostics.add({
      code: DIAGNOSTIC_CODES.ruleSkipped,
      message: `rule skipped: ${e.message}`,
      location: { file: e.file, ...(e.line ? { line: e.line } : {}) },
    });
  }
  const pipeline = new RecordPipeline({
    rules,
    correlations,
    scanTime: startedAt,
    windowFrom: windowFrom(plans),
    ...(opts.history ? { history: opts.history } : {}),
    state: opts.state,
    limits: opts.limits,
    diagnostics,
  });
  const tally = new CoverageTally();
  const { filter, pushdown } = opts.noPrefilter ? {} : prefilterFor(rules, opts.limits, correlations);
  // Correlations reference rules, which are among `rules` (private or not): their kinds count.
  const ruleKinds = new Set(rules.map((r) => r.kind));
  const readKinds = new Set<string>();
  let skipped = 0;
  for (const [i, c] of opts.collectors.entries()) {
    const overlap = WINDOWED_SOURCES.has(c.source) ? opts.overlap : undefined;
    const options = {
      tally,
      diagnostics,
      ruleKinds,
      abortSignal: opts.abortSignal,
      ...(filter ? { filter } : {}),
      ...(pushdown ? { pushdown } : {}),
    };
    for await (const batch of c.collect(plans[i] as CollectionPlan, options)) {
      let last = "";
      for (const r of batch) {
        // Batches are mostly one kind: the set is touched once per run of a kind, not per record.
        if (r.kind !== last) {
          last = r.kind;
          readKinds.add(readKind(r.kind));
        }
        if (overlap && r.kind === "activity") {
          if (overlap.seen(r.id)) {
            skipped++;
            continue;
          }
          overlap.read(r.id, r.time);
        }
        pipeline.push(r);
      }
      if (opts.onProgress) {
        const st = pipeline.engine.stats;
        opts.onProgress({ records: st.records, sources: tally.size, matches: st.matches });
      }
    }
  }
  if (skipped > 0)
    diagnostics.add({
      code: DIAGNOSTIC_CODES.overlapSkipped,
      message: `${skipped} Activity Log event(s) that the previous scan read were read again in the overlap for late events and skipped`,
    });
  // Authors of configured resources whose latest write the pre-filter cleared: read those lines now.
  await pipeline.resolve(async (refs) => {
    const out: AuditRecord[] = [];
    for (const c of opts.collectors) if (c.readBack) out.push(...(await c.readBack(refs)));
    return out;
  });
  const findings = pipeline.finish();
  const coverage = tally.entries();
  return {
    result: {
      id: opts.newId?.() ?? randomUUID(),
      startedAt,
      finishedAt: now().toISOString(),
      complete: coverage.every((c) => c.status === "complete"),
      coverage,
      findings,
      rules: [...rules.filter((r) => !r.private), ...correlations].map(summarize),
      // Sorted, so the report is the same whatever order stages met things in (workers interleave).
      diagnostics: [...diagnostics.list()].sort(compareDiagnostics),
      ...(opts.onlyRuleDirs ? {} : { notObservable: notObservable() }),
      stats: {
        records: pipeline.engine.stats.records,
        observed: pipeline.engine.stats.observed,
        evaluations: pipeline.engine.stats.evaluations,
        rules: rules.length + correlations.length,
      },
    },
    ruleErrors: errors,
    readKinds,
  };
}
