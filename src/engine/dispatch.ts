/**
 * Stage 1, dispatch: rules are bucketed by record kind and, for the Activity Log, by the
 * operation names their condition requires, so a record meets only the rules that can match
 * it and the cost per record does not grow with the size of the pack.
 */
import type { AuditRecord, RecordKind } from "../model/records.js";
import type { EngineRule } from "../rules/loader.js";

interface Bucket {
  byOperation: Map<string, EngineRule[]>;
  any: EngineRule[];
}

export class Dispatcher {
  private readonly buckets = new Map<RecordKind, Bucket>();

  constructor(rules: readonly EngineRule[]) {
    for (const rule of rules) {
      let b = this.buckets.get(rule.kind);
      if (!b) {
        b = { byOperation: new Map(), any: [] };
        this.buckets.set(rule.kind, b);
      }
      if (rule.kind === "activity" && rule.operations) {
        for (const op of rule.operations) {
          const list = b.byOperation.get(op) ?? [];
          list.push(rule);
          b.byOperation.set(op, list);
        }
      } else {
        b.any.push(rule);
      }
    }
  }

  /** The rules a record must be evaluated against (possibly none). */
  candidates(r: AuditRecord): { indexed?: readonly EngineRule[]; any: readonly EngineRule[] } | undefined {
    const b = this.buckets.get(r.kind);
    if (!b) return undefined;
    const indexed = r.kind === "activity" ? b.byOperation.get(r.operation) : undefined;
    if (!indexed && b.any.length === 0) return undefined;
    return { indexed, any: b.any };
  }
}
