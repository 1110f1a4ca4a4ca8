/**
 * Stage: first-seen baselines. For every distinct field tuple that a `firstseen` rule names,
 * the earliest time each value was seen over all Activity Log records (one tracker per tuple,
 * whatever the number of rules). At the end a group becomes a finding only if its key first
 * appeared after the learning period at the start of the window.
 */
import { LEAN_TUPLE_FIELDS } from "../azure/prefilter.js";
import type { RecordView } from "../matcher/view.js";
import type { ActivityObservation } from "../model/records.js";
import { type EngineState, foldHash, foldSlots, type HashStore, type PartHash, partHash, type Store } from "./state.js";

const SEP = "\u001f";

/** Entries of the cache of recent minima in front of each baseline (a power of two). */
const RECENT = 4096;

/** Baselines as plain data: tuple → [key hash, earliest time][], and keys dropped past the bound. */
export interface BaselineShare {
  baselines: [string, [number, string][]][];
  dropped: [string, number][];
}

interface Tracker {
  fields: string[];
  /** Index of each field in the stage's list of distinct lean fields. */
  slots: number[];
  first: Store<string, number>;
  /**
   * Recently seen keys and their earliest time, direct-mapped: an event repeating a key at or
   * after its known first time (the Succeeded after a Started, a pipeline's next call) needs no
   * store lookup.
   */
  recentKey: Float64Array;
  recentTime: (string | undefined)[];
}

export class FirstSeenStage {
  private readonly trackers = new Map<string, Tracker>();
  /** The trackers, for the per-event loop. */
  private readonly list: Tracker[] = [];
  /** Distinct lower-cased fields over all tuples: an observation computes each once. */
  private readonly leanFields: string[] = [];
  private readonly scratch: (PartHash | undefined)[] = [];

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
        recentTime: new Array(RECENT),
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
    for (const t of this.list) {
      const k = foldSlots(hashes, t.slots);
      if (k >= 0) this.record(t, k, time);
    }
  }

  /** Records the time of every tuple value this record has. */
  observe(view: RecordView, time: string): void {
    for (const t of this.trackers.values()) {
      const k = tupleKey(view, t.fields);
      if (k !== undefined) this.record(t, baselineKey(k), time);
    }
  }

  private record(t: Tracker, k: number, time: string): void {
    const slot = k % RECENT;
    if (t.recentKey[slot] === k) {
      const known = t.recentTime[slot] as string;
      if (time >= known) return;
    }
    const prev = t.first.get(k);
    if (prev === undefined) {
      if (t.first.size >= this.limit) {
        const tuple = t.fields.join(SEP);
        this.dropped.set(tuple, (this.dropped.get(tuple) ?? 0) + 1);
        return;
      }
      t.first.set(k, time);
    } else if (time < prev) t.first.set(k, time);
    t.recentKey[slot] = k;
    t.recentTime[slot] = prev !== undefined && prev < time ? prev : time;
  }

  /**
   * A baseline built elsewhere (a worker thread's share of the input): each key keeps the
   * earlier time, so the result is the same whatever the order shares arrive in.
   */
  absorb(part: BaselineShare): void {
    for (const [tuple, entries] of part.baselines) {
      const t = this.trackers.get(tuple);
      if (!t) continue;
      for (const [k, time] of entries) this.record(t, k, time);
    }
    for (const [tuple, n] of part.dropped) this.dropped.set(tuple, (this.dropped.get(tuple) ?? 0) + n);
  }

  /** This stage's baselines as plain data (what a worker thread sends back). */
  share(): BaselineShare {
    return {
      baselines: [...this.trackers].map(([tuple, t]) => [tuple, [...(t.first as HashStore<string>).entries()]]),
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
