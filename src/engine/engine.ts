/**
 * The detection engine: its stages wired together. Dispatch (a record meets only the rules
 * indexed under its kind and operation) → matching (compiled predicates over a per-record view)
 * → correlation buffering, first-seen baselines and grouping → at the end, deferred rules (those
 * reading scan-wide context), first-seen decisions, chains, and finding construction. What the
 * stages keep lives in an EngineState, in memory unless a store is given.
 */
import type { AzureContext } from "../azure/enrich/index.js";
import { AZURE_FIELDS, type FieldContext } from "../azure/fields.js";
import { RecordView } from "../matcher/view.js";
import { DIAGNOSTIC_CODES, Diagnostics } from "../model/diagnostics.js";
import type { Finding } from "../model/finding.js";
import {
  type ActivityObservation,
  type AuditRecord,
  baselineApplied,
  type ObservationShare,
} from "../model/records.js";
import type { EngineRule, ResolvedCorrelation } from "../rules/loader.js";
import { Correlator } from "./correlate.js";
import { Dispatcher } from "./dispatch.js";
import { buildFinding } from "./findings/build.js";
import { chainFinding, linkChains } from "./findings/chain.js";
import { locate } from "./findings/locate.js";
import { FirstSeenStage, tupleKey } from "./firstseen.js";
import { evidenceOf, Grouping } from "./grouping.js";
import { type BoundedBuffer, DEFAULT_LIMITS, type EngineLimits, type EngineState, MemoryState } from "./state.js";

/**
 * The distinct first-seen field tuples of a rule set: those of `firstseen` rules and those by
 * which correlations judge whether a chain step is new (`steps.new-for`).
 */

/** Time a user rule may take on one record (built-in rules are held to the ReDoS probe by a test). */
export const RULE_RECORD_BUDGET_MS = 250;
export function firstSeenTuples(
  rules: readonly EngineRule[],
  correlations: readonly Pick<ResolvedCorrelation, "ext">[] = [],
): string[][] {
  const out: string[][] = [];
  const add = (f: readonly string[] | undefined) => {
    if (f && !out.some((x) => x.join("\u001f") === f.join("\u001f"))) out.push([...f]);
  };
  for (const r of rules) add(r.ext.firstseen?.fields);
  for (const c of correlations) add(c.ext.steps?.newFor);
  return out;
}

/** The span of Activity Log that first-seen baselines loaded into the state already cover. */
export interface BaselineHistory {
  from: string;
  to: string;
}

/** The learning start: the stored history's when it reaches this window without a gap. */
export function withHistory(own: string | undefined, history: BaselineHistory | undefined): string | undefined {
  if (!own || !history) return own;
  const start = Date.parse(own);
  if (Date.parse(history.to) < start || Date.parse(history.from) >= start) return own;
  return history.from;
}

export interface EngineOptions {
  /** Start of the scanned window (for first-seen learning); defaults to the earliest event. */
  windowFrom?: string;
  /**
   * Baselines an earlier scan kept (the state store): when they reach this scan's window (no
   * gap), learning counts from their start, so a short window does not need its own history.
   */
  history?: BaselineHistory;
  /** Used as the time of configuration findings nobody can be tied to. */
  scanTime: string;
  context: AzureContext;
  state?: EngineState;
  limits?: Partial<EngineLimits>;
  diagnostics?: Diagnostics;
}

interface Deferred {
  record: AuditRecord;
  rules: EngineRule[];
}

export class Engine {
  /** Records processed (derived ones included), of them events only observed, and rule evaluations. */
  readonly stats = { records: 0, observed: 0, evaluations: 0, matches: 0 };
  readonly diagnostics: Diagnostics;
  private readonly dispatcher: Dispatcher;
  private readonly firstSeen: FirstSeenStage;
  private readonly grouping: Grouping;
  private readonly correlator: Correlator;
  private readonly deferred: BoundedBuffer<Deferred>;
  private readonly limits: EngineLimits;
  private readonly fieldContext: FieldContext;
  private minTime?: string;
  private maxTime?: string;

  constructor(
    readonly rules: readonly EngineRule[],
    readonly correlations: readonly ResolvedCorrelation[],
    private readonly options: EngineOptions,
  ) {
    const state = options.state ?? new MemoryState();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.diagnostics = options.diagnostics ?? new Diagnostics();
    this.dispatcher = new Dispatcher(rules);
    this.firstSeen = new FirstSeenStage(firstSeenTuples(rules, correlations), state, this.limits.baselineKeys);
    this.grouping = new Grouping(state, this.limits.findings);
    this.correlator = new Correlator(correlations, state, this.limits, this.diagnostics);
    this.deferred = state.deferred<Deferred>(this.limits.deferredRecords);
    const a = options.context.attribution;
    this.fieldContext = {
      roles: options.context.roles,
      // Read only by late fields, i.e. once the whole Activity Log has been seen.
      importedFrom: (img) => {
        const imp = a.importFor(img.id);
        return imp ? (imp.imp.source ?? "registry import") : undefined;
      },
      extensionHandler: (e) => options.context.extensions.handlerOf(e),
    };
  }

  process(r: AuditRecord): void {
    this.stats.records++;
    let view: RecordView | undefined;
    if (r.kind === "activity") {
      if (this.minTime === undefined || r.time < this.minTime) this.minTime = r.time;
      if (this.maxTime === undefined || r.time > this.maxTime) this.maxTime = r.time;
      if (this.firstSeen.active && !baselineApplied(r)) {
        view = this.view(r);
        this.firstSeen.observe(view, r.time);
      }
    }
    const c = this.dispatcher.candidates(r);
    if (!c) return;
    view ??= this.view(r);
    let late: EngineRule[] | undefined;
    for (const list of [c.indexed ?? [], c.any]) {
      for (const rule of list) {
        if (!rule.matcher.late || rule.matcher.settled(view)) this.evaluate(rule, r, view);
        else if (late) late.push(rule);
        else late = [rule];
      }
    }
    // Rules reading scan-wide context not yet known for this record (a custom role whose
    // definition may come later, an image import) wait for the end of the input, so the order
    // records arrive in never changes a verdict. They keep the record without its raw object.
    if (late) this.deferred.push({ record: r.kind === "activity" ? { ...r, raw: undefined } : r, rules: late });
  }

  /** An event the pre-filter cleared: no rule can match it; it still widens the window and the baselines. */
  observe(o: ActivityObservation): void {
    this.stats.records++;
    this.stats.observed++;
    if (this.minTime === undefined || o.time < this.minTime) this.minTime = o.time;
    if (this.maxTime === undefined || o.time > this.maxTime) this.maxTime = o.time;
    if (this.firstSeen.active) this.firstSeen.observeLean(o);
  }

  /** Observations a worker thread applied to its own baselines: their share, counts and window. */
  absorb(o: ObservationShare): void {
    this.stats.records += o.observed;
    this.stats.observed += o.observed;
    if (o.from && (this.minTime === undefined || o.from < this.minTime)) this.minTime = o.from;
    if (o.to && (this.maxTime === undefined || o.to > this.maxTime)) this.maxTime = o.to;
    this.firstSeen.absorb(o.baselines);
  }

  private view(r: AuditRecord): RecordView {
    return new RecordView(r, r.kind, AZURE_FIELDS, this.fieldContext);
  }

  private evaluate(rule: EngineRule, r: AuditRecord, view: RecordView): void {
    this.stats.evaluations++;
    if (rule.budgeted ? !this.timed(rule, view) : !rule.matcher.predicate(view)) return;
    if (this.correlator.wants(rule.id)) this.correlator.offer(rule.id, r, view);
    if (rule.private) return;
    this.stats.matches++;
    let fsKey: string | undefined;
    const fs = rule.ext.firstseen;
    if (fs) {
      fsKey = tupleKey(view, fs.fields);
      if (fsKey === undefined) return;
    }
    this.grouping.add(rule, r, view, fsKey);
  }

  /** User rules that took longer than RULE_RECORD_BUDGET_MS on one record: not run again this scan. */
  private readonly overBudget = new Set<string>();

  /**
   * A user rule's predicate, timed: past the budget on one record the rule is disabled for the
   * rest of the scan and a diagnostic says so (what it matched until then stands). A regex cannot
   * be interrupted; its input is bounded (MAX_REGEX_INPUT) and its backtracking probed at load.
   */
  private timed(rule: EngineRule, view: RecordView): boolean {
    if (this.overBudget.has(rule.id)) return false;
    const start = performance.now();
    const hit = rule.matcher.predicate(view);
    const ms = performance.now() - start;
    if (ms > RULE_RECORD_BUDGET_MS) {
      this.overBudget.add(rule.id);
      this.diagnostics.add({
        code: DIAGNOSTIC_CODES.ruleOverBudget,
        ruleId: rule.id,
        message: `rule ${rule.id} (${rule.title}) took ${Math.round(ms)} ms on one record (budget ${RULE_RECORD_BUDGET_MS} ms) and was disabled for the rest of the scan; what it matched before stands`,
        location: { file: rule.file, ...(rule.line ? { line: rule.line } : {}) },
      });
    }
    return hit;
  }

  /** Ends the stream: deferred rules, first-seen decisions, chains, findings. */
  finish(): Finding[] {
    for (const d of this.deferred.items()) {
      const view = this.view(d.record);
      for (const rule of d.rules) this.evaluate(rule, d.record, view);
    }
    if (this.deferred.dropped > 0) {
      this.diagnostics.add({
        code: DIAGNOSTIC_CODES.deferredBound,
        message: `${this.deferred.dropped} record(s) past the limit of ${this.limits.deferredRecords} were not checked by rules that need the whole input (role grants, image imports); scan a shorter window`,
      });
    }
    this.deferred.clear();
    if (this.grouping.dropped.size > 0) {
      // One diagnostic: which rules lost the most, and how much was not kept in all.
      const lost = [...this.grouping.dropped].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
      const total = lost.reduce((n, [, k]) => n + k, 0);
      const top = lost
        .slice(0, 3)
        .map(([id, k]) => `${this.rules.find((r) => r.id === id)?.title ?? id} (${k})`)
        .join(", ");
      this.diagnostics.add({
        code: DIAGNOSTIC_CODES.findingsBound,
        message: `the scan held its limit of ${this.limits.findings} distinct findings; ${total} matches of ${lost.length} rule(s) that would have started new ones were not reported (most: ${top}); scan a shorter window or fewer subscriptions`,
      });
    }
    for (const [tuple, n] of this.firstSeen.dropped) {
      this.diagnostics.add({
        code: DIAGNOSTIC_CODES.baselineBound,
        message: `the first-seen baseline of ${tuple.split("\u001f").join(" + ")} held its limit of ${this.limits.baselineKeys} keys and did not keep ${n} more; first-seen rules on it stay quiet for keys it does not hold`,
      });
    }
    const a = this.options.context.attribution;
    if (a.droppedWriters > 0) {
      this.diagnostics.add({
        code: DIAGNOSTIC_CODES.writersBound,
        message: `attribution held its limit of ${this.limits.writers} resources and did not keep the authors of ${a.droppedWriters} more; configuration findings on those resources name no author`,
      });
    }
    const findings: Finding[] = [];
    const windowFrom = withHistory(this.options.windowFrom ?? this.minTime, this.options.history);
    const windowTo = this.maxTime;
    for (const g of this.grouping.all()) {
      const fs = g.rule.ext.firstseen;
      if (!fs || g.fsKey === undefined) {
        findings.push(buildFinding(g, a, this.options.scanTime));
        continue;
      }
      if (!windowFrom || !windowTo) continue;
      const learningEnd = new Date(Date.parse(windowFrom) + fs.learningMs).toISOString();
      if (windowTo < learningEnd) {
        this.diagnostics.add({
          code: DIAGNOSTIC_CODES.ruleNeedsHistory,
          ruleId: g.rule.id,
          message: `rule ${g.rule.id} (${g.rule.title}) needs ${fs.learningMs / 864e5} days of history before it can flag anything; the window starts ${windowFrom} and ends ${windowTo}`,
        });
        continue;
      }
      const firstSeen = this.firstSeen.firstSeen(fs.fields, g.fsKey);
      if (!firstSeen || firstSeen < learningEnd) continue;
      findings.push(
        buildFinding(g, a, this.options.scanTime, { baseline: { from: windowFrom, learningEnd }, firstSeen }),
      );
    }
    const byId = new Map<string, EngineRule | ResolvedCorrelation>();
    for (const r of this.rules) byId.set(r.id, r);
    for (const c of this.correlations) byId.set(c.id, c);
    const chains: Finding[] = [];
    // What makes a chain step more than the identity's routine work (correlations with `steps`).
    const withFindings = new Set<string>();
    for (const f of findings) for (const r of f.evidence.records) withFindings.add(r.id);
    this.correlator.finish(
      (r) => this.view(r),
      (r) => locate(r, a).time,
      (res) => chains.push(chainFinding(res, byId, a)),
      {
        hasFinding: (r) => withFindings.has(evidenceOf(r).id),
        firstSeen: (fields, key) => this.firstSeen.firstSeen(fields, key),
        learningEnd: (c, learningMs) => {
          if (!windowFrom || !windowTo) return undefined;
          const end = new Date(Date.parse(windowFrom) + learningMs).toISOString();
          if (windowTo >= end) return end;
          this.diagnostics.add({
            code: DIAGNOSTIC_CODES.ruleNeedsHistory,
            ruleId: c.id,
            message: `correlation ${c.id} (${c.title}) needs ${learningMs / 864e5} days of history before it can start a chain; the window starts ${windowFrom} and ends ${windowTo}`,
          });
          return undefined;
        },
      },
    );
    const byTime = (x: Finding, y: Finding) => (x.time < y.time ? -1 : x.time > y.time ? 1 : x.id < y.id ? -1 : 1);
    // Sorted first, so the findings a chain step links to are listed in one order whatever the input order.
    findings.sort(byTime);
    linkChains(chains, findings);
    findings.push(...chains);
    findings.sort(byTime);
    return findings;
  }
}
