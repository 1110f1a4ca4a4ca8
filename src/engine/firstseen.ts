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
import type { EngineState, Store } from "./state.js";

const SEP = "\u001f";

export class FirstSeenStage {
  private readonly trackers = new Map<string, { fields: string[]; lowerFields: string[]; first: Store<string> }>();

  constructor(rules: readonly EngineRule[], state: EngineState) {
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
      const prev = t.first.get(k);
      if (prev === undefined || o.time < prev) t.first.set(k, o.time);
    }
  }

  /** Records the time of every tuple value this record has. */
  observe(view: RecordView, time: string): void {
    for (const t of this.trackers.values()) {
      const k = tupleKey(view, t.fields);
      if (k === undefined) continue;
      const prev = t.first.get(k);
      if (prev === undefined || time < prev) t.first.set(k, time);
    }
  }

  firstSeen(fields: string[], key: string): string | undefined {
    return this.trackers.get(fields.join(SEP))?.first.get(key);
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
