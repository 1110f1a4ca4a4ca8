/**
 * Stage: first-seen baselines. For every distinct field tuple that a `firstseen` rule names,
 * the earliest time each value was seen over all Activity Log records (one tracker per tuple,
 * whatever the number of rules). At the end a group becomes a finding only if its key first
 * appeared after the learning period at the start of the window.
 */
import { LEAN_TUPLE_FIELDS } from "../azure/prefilter.js";
import type { RecordView } from "../matcher/view.js";
import type { ActivityObservation, BaselinePart } from "../model/records.js";
import { type Baseline, encodeTime, FULL, KEPT, partHi, type TimeCode } from "./baseline.js";
import { type EngineState, foldHash, foldSlots, type PartHash, partHash } from "./state.js";

const SEP = "\u001f";

/** Entries of the cache of recent minima in front of each baseline (a power of two). */
const RECENT = 4096;

/** Baselines as plain data: tuple → its keys and earliest times, and keys dropped past the bound. */
export interface BaselineShare {
  baselines: [string, BaselinePart][];
  dropped: [string, number][];
}

/** The buffers of a share, to transfer rather than copy to another thread. */
export function shareBuffers(s: BaselineShare): ArrayBuffer[] {
  return s.baselines.flatMap(([, p]) => [p.keys.buffer, p.hi.buffer, p.lo.buffer] as ArrayBuffer[]);
}

interface Tracker {
  fields: string[];
  /** Index of each field in the stage's list of distinct lean fields. */
  slots: number[];
  first: Baseline;
  /**
   * Recently seen keys and the code of their earliest time (baseline.ts), direct-mapped: an
   * event repeating a key at or after its known first time (the Succeeded after a Started, a
   * pipeline's next call) needs no store lookup.
   */
  recentKey: Float64Array;
  recentHi: Float64Array;
  recentLo: Float64Array;
}

export class FirstSeenStage {
  private readonly trackers = new Map<string, Tracker>();
  /** The trackers, for the per-event loop. */
  private readonly list: Tracker[] = [];
  /** Distinct lower-cased fields over all tuples: an observation computes each once. */
  private readonly leanFields: string[] = [];
  private readonly scratch: (PartHash | undefined)[] = [];
  /** The code of the time being recorded (hi NaN when the time is not encodable). */
  private readonly code: TimeCode = { hi: 0, lo: 0 };

  /** Tuple → keys not kept because the baseline was full. */
  readonly dropped = new Map<string, number>();

  constructor(
    /** The field tuples of the loaded first-seen rules. */
    tuples: readonly (readonly string[])[],
    state: EngineState,
    private readonly limit: number,
  ) {
    for (const fields of tuples) {
      const fs = { fields: [...fields] };
      const tuple = fs.fields.join(SEP);
      if (this.trackers.has(tuple)) continue;
      const slots = fs.fields.map((f) => {
        const lower = f.toLowerCase();
        let i = this.leanFields.indexOf(lower);
        if (i < 0) i = this.leanFields.push(lower) - 1;
        return i;
      });
      this.trackers.set(tuple, {
        fields: fs.fields,
        slots,
        first: state.baseline(tuple),
        recentKey: new Float64Array(RECENT).fill(-1),
        recentHi: new Float64Array(RECENT),
        recentLo: new Float64Array(RECENT),
      });
      this.list.push(this.trackers.get(tuple) as Tracker);
    }
  }

  get active(): boolean {
    return this.trackers.size > 0;
  }

  /** The distinct lower-cased fields of all tuples: `observeParts` takes their hashes in this order. */
  get fieldNames(): readonly string[] {
    return this.leanFields;
  }

  /** The same for an event read without parsing (see azure/prefilter.ts for the fields it has). */
  observeLean(o: ActivityObservation): void {
    // Each field hashed once per observation, however many tuples use it; no key string is built.
    for (let i = 0; i < this.leanFields.length; i++) {
      const v = LEAN_TUPLE_FIELDS[this.leanFields[i] as string]?.(o);
      this.scratch[i] = v === undefined || v === "" ? undefined : partHash(v);
    }
    this.observeParts(this.scratch, o.time);
  }

  /**
   * An event given as the part hashes of its fields (in `fieldNames` order; undefined where it
   * has none) and its time: what a reader that never makes the strings calls.
   */
  observeParts(hashes: readonly (PartHash | undefined)[], time: string): void {
    const c = this.codeOf(time);
    for (const t of this.list) {
      const k = foldSlots(hashes, t.slots);
      if (k >= 0) this.record(t, k, time, c.hi, c.lo);
    }
  }

  /** Records the time of every tuple value this record has. */
  observe(view: RecordView, time: string): void {
    const c = this.codeOf(time);
    for (const t of this.trackers.values()) {
      const k = tupleKey(view, t.fields);
      if (k !== undefined) this.record(t, baselineKey(k), time, c.hi, c.lo);
    }
  }

  private codeOf(time: string): TimeCode {
    if (!encodeTime(time, this.code)) this.code.hi = Number.NaN;
    return this.code;
  }

  /** `time` (undefined when its code is given) with its code `hi`, `lo` (hi NaN: none). */
  private record(t: Tracker, k: number, time: string | undefined, hi: number, lo: number): void {
    const slot = k % RECENT;
    const coded = !Number.isNaN(hi);
    if (coded && t.recentKey[slot] === k) {
      const h = t.recentHi[slot] as number;
      if (hi > h || (hi === h && lo >= (t.recentLo[slot] as number))) return;
    }
    const r = t.first.offer(k, time, hi, lo, this.limit);
    if (r === FULL) {
      const tuple = t.fields.join(SEP);
      this.dropped.set(tuple, (this.dropped.get(tuple) ?? 0) + 1);
      return;
    }
    // The key's earliest time now: the one kept, or this one.
    let h = hi;
    let l = lo;
    if (r === KEPT) {
      h = t.first.held.hi;
      l = t.first.held.lo;
    }
    if (Number.isNaN(h)) return;
    t.recentKey[slot] = k;
    t.recentHi[slot] = h;
    t.recentLo[slot] = l;
  }

  /**
   * A baseline built elsewhere (a worker thread's share of the input): each key keeps the
   * earlier time, so the result is the same whatever the order shares arrive in.
   */
  absorb(part: BaselineShare): void {
    for (const [tuple, p] of part.baselines) {
      const t = this.trackers.get(tuple);
      if (!t) continue;
      const odd = p.odd.length > 0 ? new Map(p.odd) : undefined;
      for (let i = 0; i < p.keys.length; i++) {
        const k = p.keys[i] as number;
        const hi = partHi(p, i);
        this.record(t, k, Number.isNaN(hi) ? odd?.get(k) : undefined, hi, p.lo[i] as number);
      }
    }
    for (const [tuple, n] of part.dropped) this.dropped.set(tuple, (this.dropped.get(tuple) ?? 0) + n);
  }

  /** This stage's baselines as packed buffers (what a worker thread transfers back). */
  share(): BaselineShare {
    return {
      baselines: [...this.trackers].map(([tuple, t]) => [tuple, t.first.part()]),
      dropped: [...this.dropped],
    };
  }

  /** Whether a tuple's baseline had to drop keys (its first-seen decisions are then incomplete). */
  overflowed(fields: string[]): boolean {
    return this.dropped.has(fields.join(SEP));
  }

  firstSeen(fields: string[], key: string): string | undefined {
    return this.trackers.get(fields.join(SEP))?.first.get(baselineKey(key));
  }
}

/** A tuple key's baseline hash: its parts' hashes folded, as observeLean computes them. */
function baselineKey(key: string): number {
  return foldHash(key.split(SEP).map(partHash));
}

/** The lower-cased tuple of a record's values for `fields`; undefined when one is missing. */
export function tupleKey(view: RecordView, fields: string[]): string | undefined {
  return view.memo(`tuple${SEP}${fields.join(SEP)}`, () => {
    const parts: string[] = [];
    for (const f of fields) {
      const v = view.field(f)[0];
      if (v === undefined || v === null || v === "") return undefined;
      parts.push(String(v).toLowerCase());
    }
    return parts.join(SEP);
  });
}
