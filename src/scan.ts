/**
 * One scan: plan inputs, load rules, stream records through derivers and the engine, and
 * assemble the ScanResult. Side effects (clock, ids) are injectable for tests.
 */
import { randomUUID } from "node:crypto";
import { derivePayloads } from "./derive/payloads.js";
import { Engine } from "./engine/engine.js";
import type { ResolvedCorrelation } from "./engine/rules-loader.js";
import { loadRules } from "./engine/rules-loader.js";
import type { RuleError, SigmaRule } from "./engine/sigma/rule.js";
import type { CoverageEntry, RuleSummary, ScanResult } from "./model/finding.js";
import type { AuditRecord } from "./model/records.js";
import { BUILTIN_RULES_DIR } from "./paths.js";
import { planInputs, readFiles } from "./sources/files/index.js";

export interface ScanOptions {
  inputs: string[];
  /** Extra rule directories (user rules), loaded after the built-in pack. */
  ruleDirs?: string[];
  /** Replace the built-in pack entirely (tests, `rules test`). */
  onlyRuleDirs?: boolean;
  now?: () => Date;
  newId?: () => string;
}

export interface ScanOutcome {
  result: ScanResult & { notes: string[]; stats: { records: number; evaluations: number; rules: number } };
  ruleErrors: RuleError[];
}

export function summarize(rule: SigmaRule | ResolvedCorrelation): RuleSummary {
  const s: RuleSummary = {
    id: rule.id,
    title: rule.title,
    level: rule.level,
    techniques: rule.techniques,
    tactics: rule.tactics,
    file: rule.file,
  };
  if (rule.description) s.description = rule.description;
  if (rule.atrm.length > 0) s.atrm = rule.atrm;
  if (rule.vectors.length > 0) s.vectors = rule.vectors;
  if (rule.falsepositives.length > 0) s.falsepositives = rule.falsepositives;
  if (rule.references.length > 0) s.references = rule.references;
  return s;
}

/** Feeds one record and what derives from it into the engine. */
export function feed(engine: Engine, r: AuditRecord): void {
  engine.process(r);
  if (r.kind === "containerImage") engine.noteImage(r.id, r.tags, r.createdTime);
  for (const p of derivePayloads(r)) engine.process(p);
}

export async function runScan(opts: ScanOptions): Promise<ScanOutcome> {
  const now = opts.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const plans = await planInputs(opts.inputs);
  const dirs = opts.onlyRuleDirs ? (opts.ruleDirs ?? []) : [BUILTIN_RULES_DIR, ...(opts.ruleDirs ?? [])];
  const { rules, correlations, errors } = await loadRules(dirs);
  const windowFrom = plans
    .map((p) => p.meta?.window?.from)
    .filter((x): x is string => !!x)
    .sort()[0];
  const engine = new Engine(rules, { windowFrom, scanTime: startedAt }, correlations);
  const coverage: CoverageEntry[] = [];
  for await (const r of readFiles(plans, coverage)) feed(engine, r);
  const findings = engine.finish();
  // A broken rule is a detection gap, not unread data: it is reported, and the scan stays complete.
  const notes = [...errors.map((e) => `rule skipped: ${e.message}`), ...engine.notes];
  const complete = coverage.every((c) => c.status === "complete");
  return {
    result: {
      id: opts.newId?.() ?? randomUUID(),
      startedAt,
      finishedAt: now().toISOString(),
      complete,
      coverage,
      findings,
      rules: [...rules.filter((r) => !r.private), ...correlations].map(summarize),
      notes,
      stats: {
        records: engine.stats.records,
        evaluations: engine.stats.evaluations,
        rules: rules.length + correlations.length,
      },
    },
    ruleErrors: errors,
  };
}
