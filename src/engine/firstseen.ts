/**
 * Stage: first-seen baselines. For every distinct field tuple that a `firstseen` rule names,
 * the earliest time each value was seen over all Activity Log records (one tracker per tuple,
 * whatever the number of rules). At the end a group becomes a finding only if its key first
 * appeared after the learning period at the start of the window.
 */
import { LEAN_TUPLE_FIELDS } from "../azure/prefilter.js";
import type { RecordView } from "../matcher/view.js";
import type { ActivityObservation } from "../model/records.js";
import type { EngineRule } from "../rules/loader.js";
import { type EngineState, keyHash, type Store } from "./state.js";

const SEP = "\u001f";

export class FirstSeenStage {
  private readonly trackers = new Map<
    string,
    { fields: string[]; lowerFields: string[]; first: Store<string, number> }
  >();

  /** Tuple → keys not kept because the baseline was full. */
  readonly dropped = new Map<string, number>();

  constructor(
    rules: readonly EngineRule[],
    state: EngineState,
    private readonly limit: number,
  ) {
    for (const rule of rules) {
      const fs = rule.ext.firstseen;
      if (!fs) continue;
      const tuple = fs.fields.join(SEP);
      if (!this.trackers.has(tuple))
        this.trackers.set(tuple, {
          fields: fs.fields,
          lowerFields: fs.fields.map((f) => f.toLowerCase()),
          first: state.baseline(tuple),
        });
    }
  }

  get active(): boolean {
    return this.trackers.size > 0;
  }

  /** The same for an event read without parsing (see azure/prefilter.ts for the fields it has). */
  observeLean(o: ActivityObservation): void {
    // Each field once per observation, however many tuples use it.
    const values = new Map<string, string | undefined>();
    const get = (f: string) => {
      if (values.has(f)) return values.get(f);
      const v = LEAN_TUPLE_FIELDS[f]?.(o)?.toLowerCase();
      values.set(f, v);
      return v;
    };
    for (const t of this.trackers.values()) {
      let k = "";
      let complete = true;
      for (let i = 0; i < t.lowerFields.length; i++) {
        const v = get(t.lowerFields[i] as string);
        if (v === undefined || v === "") {
          complete = false;
          break;
        }
        k = i === 0 ? v : `${k}${SEP}${v}`;
      }
      if (!complete) continue;
      this.record(t, k, o.time);
    }
  }

  /** Records the time of every tuple value this record has. */
  observe(view: RecordView, time: string): void {
    for (const t of this.trackers.values()) {
      const k = tupleKey(view, t.fields);
      if (k === undefined) continue;
      this.record(t, k, time);
    }
  }

  private record(t: { fields: string[]; first: Store<string, number> }, key: string, time: string): void {
    const k = keyHash(key);
    const prev = t.first.get(k);
    if (prev === undefined) {
      if (t.first.size >= this.limit) {
        const tuple = t.fields.join(SEP);
        this.dropped.set(tuple, (this.dropped.get(tuple) ?? 0) + 1);
        return;
      }
      t.first.set(k, time);
    } else if (time < prev) t.first.set(k, time);
  }

  /** Whether a tuple's baseline had to drop keys (its first-seen decisions are then incomplete). */
  overflowed(fields: string[]): boolean {
    return this.dropped.has(fields.join(SEP));
  }

  firstSeen(fields: string[], key: string): string | undefined {
    return this.trackers.get(fields.join(SEP))?.first.get(keyHash(key));
  }
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
