/**
 * Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) over the
 * matches of the rules they reference. Matches are buffered compactly per correlation (one small
 * entry per match of a referenced rule, never per record read) and evaluated when the stream
 * ends, because input files are not in time order and configuration records only get their
 * time (who wrote them, when) once the whole Activity Log has been seen.
 */
import type { RecordView } from "../matcher/view.js";
import { DIAGNOSTIC_CODES, type Diagnostics } from "../model/diagnostics.js";
import type { AuditRecord } from "../model/records.js";
import type { ResolvedCorrelation } from "../sigma/ast.js";
import { compactActivity, interner } from "./compact.js";
import { tupleKey } from "./firstseen.js";
import { instanceKey } from "./grouping.js";
import type { BoundedBuffer, EngineLimits, EngineState } from "./state.js";

/**
 * Group values and novelty keys of buffered matches, kept once each: they repeat across most
 * matches, but there can be more of them than of the names the shared pool keeps.
 */
const intern = interner();

/** Values per group-by field that one match contributes; arrays fan out up to this many. */
const MAX_GROUP_VALUES = 10;
/** Steps listed in one correlation finding. */
export const MAX_STEPS = 50;

export interface CorrEvent {
  /** The referenced rule or correlation that produced it. */
  ref: string;
  record: AuditRecord;
  /** Known for Activity Log matches; resolved at the end for configuration records. */
  time?: string;
  /**
   * group-by field (or alias) and its values, in the correlation's order: pairs, not a Map (a
   * Map's table is about 150 bytes; a correlation groups by one to three fields), and the shape
   * the state store keeps.
   */
  group: [field: string, values: string[]][];
  /** value_count: the counted field's values. */
  counted?: string[];
  /** For events that are themselves correlation results: their steps. */
  steps?: CorrEvent[];
  /** A match an earlier scan kept (the state store): its window may still be open. */
  carried?: boolean;
  /** The event's `steps.new-for` tuple (correlations that judge their steps). */
  novelty?: string;
}

/** Whether every match of a result was an earlier scan's: that scan reported it already. */
function allCarried(steps: readonly CorrEvent[]): boolean {
  return steps.every((s) => (s.steps ? allCarried(s.steps) : s.carried === true));
}

/** What the engine knows at the end that decides whether a chain step is notable. */
export interface StepJudge {
  /** Whether a record raised a single-rule finding. */
  hasFinding(r: AuditRecord): boolean;
  /** When a first-seen tuple value first appeared (undefined when it is not known). */
  firstSeen(fields: string[], key: string): string | undefined;
  /**
   * The end of a learning period at the start of the window, or undefined when the window is
   * shorter (nothing can be called new then).
   */
  learningEnd(c: ResolvedCorrelation, learningMs: number): string | undefined;
}

/** Decides whether `ev` may be a step of the chain that `start` begins (and, optionally, where one may begin). */
type Keep = ((ev: CorrEvent, start: CorrEvent) => boolean) & { starts?: (ev: CorrEvent) => boolean };

export interface CorrResult {
  correlation: ResolvedCorrelation;
  group: Record<string, string>;
  steps: CorrEvent[];
  time: string;
  lastTime: string;
}

function valuesOf(view: RecordView, field: string): string[] {
  const out: string[] = [];
  for (const v of view.field(field)) {
    if (v === null || v === undefined || v === "") continue;
    if (typeof v === "object") continue;
    // Interned: group values (principals, resources) repeat across most of the buffered matches.
    out.push(intern(String(v).toLowerCase()));
    if (out.length >= MAX_GROUP_VALUES) break;
  }
  return out;
}

/** The field a group-by entry means for events of one referenced rule (aliases resolved). */
function fieldFor(c: ResolvedCorrelation, groupField: string, refIndex: number): string {
  const alias = c.correlation.aliases[groupField];
  if (!alias) return groupField;
  const written = c.correlation.rules[refIndex] as string;
  return alias[written] ?? alias[c.refs[refIndex] as string] ?? groupField;
}

export function makeEvent(
  c: ResolvedCorrelation,
  refIndex: number,
  record: AuditRecord,
  view: RecordView,
  time?: string,
): CorrEvent | undefined {
  const group = c.correlation.groupBy.map((g): [string, string[]] => [g, valuesOf(view, fieldFor(c, g, refIndex))]);
  // No value, no group: Sigma groups only on present values.
  if (group.some(([, vals]) => vals.length === 0)) return undefined;
  const steps = c.ext.steps;
  const k = steps && (refIndex > 0 || steps.first) ? tupleKey(view, steps.newFor) : undefined;
  // One literal with every field (compact.ts says why).
  const ev: CorrEvent = {
    ref: c.refs[refIndex] as string,
    record,
    group,
    time: time || undefined,
    novelty: intern(k),
    counted: undefined,
  };
  if (c.correlation.type === "value_count" && c.correlation.field) {
    ev.counted = valuesOf(view, fieldFor(c, c.correlation.field, refIndex));
    if (ev.counted.length === 0) return undefined;
  }
  return ev;
}

function satisfies(n: number, cond: ResolvedCorrelation["correlation"]["condition"]): boolean {
  if (cond.gt !== undefined && !(n > cond.gt)) return false;
  if (cond.gte !== undefined && !(n >= cond.gte)) return false;
  if (cond.lt !== undefined && !(n < cond.lt)) return false;
  if (cond.lte !== undefined && !(n <= cond.lte)) return false;
  if (cond.eq !== undefined && n !== cond.eq) return false;
  return true;
}

/** An event's values for group-by field `f`. */
function valuesFor(ev: CorrEvent, f: string): readonly string[] {
  for (const [field, values] of ev.group) if (field === f) return values;
  return [];
}

/** Cartesian keys of an event's group values (each combination is a group it belongs to). */
function groupKeys(ev: CorrEvent, fields: string[]): { key: string; values: Record<string, string> }[] {
  let acc: { key: string; values: Record<string, string> }[] = [{ key: "", values: {} }];
  for (const f of fields) {
    const next: typeof acc = [];
    for (const a of acc) {
      for (const v of valuesFor(ev, f)) next.push({ key: `${a.key}\u001f${v}`, values: { ...a.values, [f]: v } });
    }
    acc = next;
  }
  return acc;
}

const ms = (t: string) => Date.parse(t);

/** Evaluates one correlation over its events (all with times). */
export function evaluate(c: ResolvedCorrelation, events: CorrEvent[], keep?: Keep): CorrResult[] {
  const groups = new Map<string, { values: Record<string, string>; events: CorrEvent[] }>();
  for (const ev of events) {
    for (const { key, values } of groupKeys(ev, c.correlation.groupBy)) {
      let g = groups.get(key);
      if (!g) {
        g = { values, events: [] };
        groups.set(key, g);
      }
      g.events.push(ev);
    }
  }
  const out: CorrResult[] = [];
  for (const g of groups.values()) {
    // Time, then record and rule, so events at the same instant order the same whatever the input order.
    const evs = g.events.sort(
      (a, b) =>
        ms(a.time as string) - ms(b.time as string) ||
        (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0) ||
        (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0),
    );
    for (const steps of windows(c, evs, keep)) {
      out.push({
        correlation: c,
        group: g.values,
        steps: steps.slice(0, MAX_STEPS),
        time: steps[0]?.time as string,
        lastTime: steps[steps.length - 1]?.time as string,
      });
    }
  }
  return out;
}

function windows(c: ResolvedCorrelation, evs: CorrEvent[], keep?: Keep): CorrEvent[][] {
  const span = c.correlation.timespanMs;
  const { type, condition } = c.correlation;
  const found: CorrEvent[][] = [];
  if (type === "temporal_ordered") {
    // Greedy: each occurrence of the first rule starts a search for the rest, in order.
    let i = 0;
    while (i < evs.length) {
      if (evs[i]?.ref !== c.refs[0] || (keep?.starts && !keep.starts(evs[i] as CorrEvent))) {
        i++;
        continue;
      }
      const first = evs[i] as CorrEvent;
      const start = ms(first.time as string);
      const ok = (ev: CorrEvent) => !keep || ev.ref === c.refs[0] || keep(ev, first);
      let need = 1;
      let j = i + 1;
      let last = i;
      for (; j < evs.length && need < c.refs.length; j++) {
        if (ms(evs[j]?.time as string) - start > span) break;
        if (evs[j]?.ref === c.refs[need] && ok(evs[j] as CorrEvent)) {
          need++;
          last = j;
        }
      }
      if (need === c.refs.length) {
        // The chain: everything the referenced rules matched for this group inside the window.
        let end = last;
        while (end + 1 < evs.length && ms(evs[end + 1]?.time as string) - start <= span) end++;
        found.push(evs.slice(i, end + 1).filter(ok));
        i = end + 1;
      } else {
        i++;
      }
    }
    return found;
  }
  let l = 0;
  const counts = new Map<string, number>();
  const add = (ev: CorrEvent, d: number) => {
    const keys = type === "value_count" ? (ev.counted ?? []) : type === "temporal" ? [ev.ref] : [];
    for (const k of keys) {
      const n = (counts.get(k) ?? 0) + d;
      if (n === 0) counts.delete(k);
      else counts.set(k, n);
    }
  };
  for (let r = 0; r < evs.length; r++) {
    add(evs[r] as CorrEvent, 1);
    while (ms(evs[r]?.time as string) - ms(evs[l]?.time as string) > span) add(evs[l++] as CorrEvent, -1);
    const n = type === "event_count" ? r - l + 1 : counts.size;
    const ok =
      type === "temporal"
        ? Object.keys(condition).length > 0
          ? satisfies(n, condition)
          : n === new Set(c.refs).size
        : satisfies(n, condition);
    if (ok) {
      let end = r;
      while (end + 1 < evs.length && ms(evs[end + 1]?.time as string) - ms(evs[l]?.time as string) <= span) end++;
      found.push(evs.slice(l, end + 1));
      // Non-overlapping: the next burst starts after this one.
      counts.clear();
      l = end + 1;
      r = end;
    }
  }
  return found;
}

/** Correlations in an order where every referenced correlation comes first. */
export function dependencyOrder(cs: ResolvedCorrelation[]): ResolvedCorrelation[] {
  const byId = new Map(cs.map((c) => [c.id, c]));
  const done = new Set<string>();
  const out: ResolvedCorrelation[] = [];
  const visit = (c: ResolvedCorrelation) => {
    if (done.has(c.id)) return;
    done.add(c.id);
    for (const r of c.refs) {
      const dep = byId.get(r);
      if (dep) visit(dep);
    }
    out.push(c);
  };
  for (const c of cs) visit(c);
  return out;
}

interface Pending {
  index: number;
  record: AuditRecord;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Past its bound a correlation keeps its latest matches (by time, then record and rule), so the
 * windows still open for the next scan are the ones kept, and which are kept does not depend on
 * the order matches arrived in.
 */
const latestFirst = (a: CorrEvent, b: CorrEvent) =>
  cmp(b.time ?? "", a.time ?? "") || cmp(a.record.id, b.record.id) || cmp(a.ref, b.ref);

/** Configuration matches past the bound: by record id and position (they have no time yet). */
const byRecord = (a: Pending, b: Pending) => cmp(a.record.id, b.record.id) || a.index - b.index;

/**
 * Stage: correlations. Matches of referenced rules are buffered per correlation, within a bound
 * (a diagnostic says when it was hit), and evaluated when the stream ends, in dependency order,
 * so a correlation can chain on another.
 */
export class Correlator {
  /** Referenced rule id → the correlations (and the position in their `rules`) it feeds. */
  private readonly subscribers = new Map<string, { c: ResolvedCorrelation; index: number }[]>();
  private readonly buffers = new Map<string, BoundedBuffer<CorrEvent>>();
  /**
   * Matches of configuration records (images, payloads, resources), kept as the record itself:
   * their group values are resolved when the stream ends, when fields that depend on the whole
   * Activity Log (who imported an image) can be known. They are few.
   */
  private readonly pending = new Map<string, BoundedBuffer<Pending>>();

  constructor(
    readonly correlations: readonly ResolvedCorrelation[],
    state: EngineState,
    private readonly limits: EngineLimits,
    private readonly diagnostics: Diagnostics,
  ) {
    for (const c of correlations) {
      this.buffers.set(c.id, state.correlation<CorrEvent>(c.id, limits.correlationEvents, latestFirst));
      this.pending.set(c.id, state.correlation<Pending>(`${c.id}\u001fpending`, limits.correlationEvents, byRecord));
      c.refs.forEach((ref, index) => {
        const list = this.subscribers.get(ref) ?? [];
        list.push({ c, index });
        this.subscribers.set(ref, list);
      });
    }
  }

  /** Whether a rule's matches feed any correlation. */
  wants(ruleId: string): boolean {
    return this.subscribers.has(ruleId);
  }

  /** A referenced rule matched `r`. */
  offer(ruleId: string, r: AuditRecord, view: RecordView): void {
    for (const { c, index } of this.subscribers.get(ruleId) ?? []) {
      if (r.kind === "activity") {
        // Activity Log matches are grouped now and kept as a small stub (no raw record, claims
        // or properties), so a long stream of matches stays cheap to hold.
        const ev = makeEvent(
          c,
          index,
          view.memo("compact", () => compactActivity(r)),
          view,
          r.time,
        );
        if (ev) this.buffers.get(c.id)?.push(ev);
      } else {
        this.pending.get(c.id)?.push({ index, record: r });
      }
    }
  }

  /**
   * Evaluates every correlation. `viewOf` gives a record its final view (complete context);
   * `timeOf` dates configuration records. `emit` receives each result of a correlation that is
   * an alert of its own (not only a building block of another in its file). `judge` decides the
   * steps of correlations with `steps` (without it, every match is a step).
   */
  finish(
    viewOf: (r: AuditRecord) => RecordView,
    timeOf: (r: AuditRecord) => string | undefined,
    emit: (res: CorrResult) => void,
    judge?: StepJudge,
  ): void {
    for (const c of this.correlations) {
      const dropped = (this.buffers.get(c.id)?.dropped ?? 0) + (this.pending.get(c.id)?.dropped ?? 0);
      if (dropped > 0) {
        this.diagnostics.add({
          code: DIAGNOSTIC_CODES.correlationBound,
          ruleId: c.id,
          message: `correlation ${c.id} (${c.title}) held its limit of ${this.limits.correlationEvents} matches and ignored ${dropped} more (it kept the latest); scan a shorter window to see them all`,
        });
      }
    }
    // A correlation that only feeds another correlation in its own file is not an alert itself.
    const inner = new Set<string>();
    for (const c of this.correlations) {
      for (const ref of c.refs) {
        const dep = this.correlations.find((x) => x.id === ref);
        if (dep && dep.file === c.file && !dep.correlation.generate) inner.add(dep.id);
      }
    }
    for (const c of dependencyOrder([...this.correlations])) {
      const buffer = this.buffers.get(c.id);
      const events = [...(buffer?.items() ?? [])];
      for (const p of this.pending.get(c.id)?.items() ?? []) {
        const ev = makeEvent(c, p.index, p.record, viewOf(p.record));
        if (ev) events.push(ev);
      }
      this.pending.get(c.id)?.clear();
      const dated = events.filter((ev) => {
        ev.time ??= timeOf(ev.record);
        return ev.time !== undefined;
      });
      for (const res of evaluate(c, dated, judge && c.ext.steps ? notableSteps(c, dated, judge) : undefined)) {
        // Feed correlations that chain on this one.
        for (const { c: outer, index } of this.subscribers.get(c.id) ?? []) {
          const group = outer.correlation.groupBy.map((f): [string, string[]] => {
            const v = res.group[f];
            return [f, v === undefined ? [] : [v]];
          });
          const complete = group.every(([, vals]) => vals.length > 0);
          const last = res.steps[res.steps.length - 1] as CorrEvent;
          if (complete)
            this.buffers.get(outer.id)?.push({
              ref: outer.refs[index] as string,
              record: last.record,
              time: res.lastTime,
              group,
              steps: res.steps,
            });
        }
        if (!inner.has(c.id) && !allCarried(res.steps)) emit(res);
      }
      buffer?.clear();
    }
  }
}

/**
 * A correlation's `steps: notable`: a later rule's match is a step when its operation instance
 * (Started, Accepted and Succeeded records of one call) raised a finding of its own, or when
 * its `new-for` value was first seen no earlier than the chain's first step — the identity had
 * not done it before. What cannot be judged (no value, a baseline that did not keep the key)
 * stays a step: leaving out what may be the attack is worse than showing routine work.
 */
function notableSteps(c: ResolvedCorrelation, events: CorrEvent[], judge: StepJudge): Keep {
  const fields = c.ext.steps?.newFor ?? [];
  const inst = (ev: CorrEvent) =>
    ev.record.kind === "activity"
      ? `${ev.ref}\u001f${instanceKey(ev.record)}`
      : `${ev.ref}\u001f${ev.record.kind}\u001f${ev.record.id.toLowerCase()}`;
  const withFinding = new Set<string>();
  for (const ev of events) {
    if (ev.steps ? ev.steps.some((s) => judge.hasFinding(s.record)) : judge.hasFinding(ev.record)) {
      withFinding.add(inst(ev));
    }
  }
  const keep: Keep = (ev, start) => {
    if (withFinding.has(inst(ev))) return true;
    if (ev.novelty === undefined) return true;
    const first = judge.firstSeen(fields, ev.novelty);
    return first === undefined || ms(first) >= ms(start.time as string);
  };
  const learning = c.ext.steps?.first?.learningMs;
  if (learning !== undefined) {
    // As a firstseen rule: new means first seen after the learning period; without the history
    // to know (a short window, a key the baseline did not keep) the chain does not start.
    let end: string | undefined | null = null;
    keep.starts = (ev) => {
      if (withFinding.has(inst(ev))) return true;
      if (end === null) end = judge.learningEnd(c, learning);
      if (end === undefined || ev.novelty === undefined) return false;
      const first = judge.firstSeen(fields, ev.novelty);
      return first !== undefined && ms(first) >= ms(end);
    };
  }
  return keep;
}
