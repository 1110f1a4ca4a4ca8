/**
 * Stage: grouping matches into findings as they stream past. One group per rule and operation
 * instance for Activity Log records (Started/Accepted/Succeeded records share a correlationId),
 * per first-seen key, or per rule and configured resource. One entry per finding, never per
 * record read.
 */
import type { RecordView } from "../matcher/view.js";
import type { EvidenceRecord, PayloadExcerpt } from "../model/finding.js";
import type { ActivityEvent, AuditRecord } from "../model/records.js";
import type { EngineRule } from "../rules/loader.js";
import type { EngineState, Store } from "./state.js";

/** Source records listed per finding; the rest are counted. */
export const MAX_EVIDENCE_RECORDS = 50;
/** Matching payloads listed per finding. */
const MAX_PAYLOADS_PER_FINDING = 5;
/** Distinct operations listed in a first-seen finding. */
const MAX_LISTED_OPERATIONS = 20;

export interface Group {
  rule: EngineRule;
  key: string;
  first: AuditRecord;
  records: EvidenceRecord[];
  count: number;
  firstTime?: string;
  lastTime?: string;
  statuses: Set<string>;
  operations: Set<string>;
  fsKey?: string;
  fsValues?: Record<string, unknown>;
  matched: Record<string, unknown>;
  /** The Failed record of the operation, for its status message. */
  failure?: ActivityEvent;
  /** Payloads of one resource that matched (a script and a command of one image, say). */
  payloads: PayloadExcerpt[];
}

/** The source record a record's evidence points at (a payload's is its configuration). */
export function evidenceOf(r: AuditRecord): EvidenceRecord {
  const e: EvidenceRecord =
    r.kind === "payload"
      ? { kind: r.source.kind, id: r.source.id }
      : r.kind === "grant"
        ? { kind: "roleAssignment", id: r.id }
        : { kind: r.kind, id: r.kind === "activity" ? (r.eventDataId ?? r.id) : r.id };
  e.location = r.origin.location;
  if (r.origin.index !== undefined) e.index = r.origin.index;
  return e;
}

/** One call's records share a correlation id and resource: the operation instance. */
export function instanceKey(r: ActivityEvent): string {
  return `${(r.correlationId ?? r.id).toLowerCase()}\u001f${(r.resourceId ?? "").toLowerCase()}`;
}

export class Grouping {
  private readonly groups: Store<Group>;

  constructor(state: EngineState) {
    this.groups = state.groups<Group>();
  }

  all(): IterableIterator<Group> {
    return this.groups.values();
  }

  private keyOf(rule: EngineRule, r: AuditRecord, fsKey: string | undefined, view: RecordView): string {
    if (fsKey !== undefined) return `${rule.id}\u001ffs\u001f${fsKey}`;
    if (r.kind === "activity") return `${rule.id}\u001f${view.memo("instance", () => instanceKey(r))}`;
    // Payloads group by the configuration they came from: one finding per rule and resource.
    const id = r.kind === "payload" ? r.source.id : r.id;
    return `${rule.id}\u001f${r.kind}\u001f${id.toLowerCase()}`;
  }

  add(rule: EngineRule, r: AuditRecord, view: RecordView, fsKey: string | undefined): void {
    const key = this.keyOf(rule, r, fsKey, view);
    let g = this.groups.get(key);
    if (!g) {
      const matched: Record<string, unknown> = {};
      for (const f of rule.matcher.fields) {
        const v = view.field(f);
        if (v.length > 0) matched[f] = v.length === 1 ? v[0] : v.slice(0, 10);
      }
      g = {
        rule,
        key,
        first: r,
        records: [],
        count: 0,
        statuses: new Set(),
        operations: new Set(),
        matched,
        payloads: [],
      };
      const fs = rule.ext.firstseen;
      if (fsKey !== undefined && fs) {
        g.fsKey = fsKey;
        g.fsValues = Object.fromEntries(fs.fields.map((f) => [f, view.field(f)[0]]));
      }
      this.groups.set(key, g);
    }
    g.count++;
    const ev = view.memo("evidence", () => evidenceOf(r));
    if (g.records.length < MAX_EVIDENCE_RECORDS && !g.records.some((e) => e.kind === ev.kind && e.id === ev.id)) {
      g.records.push(ev);
    }
    if (r.kind === "payload" && g.payloads.length < MAX_PAYLOADS_PER_FINDING) {
      g.payloads.push({
        kind: r.payloadKind,
        path: r.path,
        content: r.content,
        truncated: r.truncated,
        vector: r.vector,
      });
    }
    if (r.kind === "activity") {
      if (g.firstTime === undefined || r.time < g.firstTime) {
        g.firstTime = r.time;
        g.first = r;
      }
      if (g.lastTime === undefined || r.time > g.lastTime) g.lastTime = r.time;
      if (r.status) g.statuses.add(r.status);
      if (r.status === "Failed") g.failure = r;
      if (g.operations.size < MAX_LISTED_OPERATIONS) g.operations.add(r.operationName);
    }
    this.groups.set(key, g);
  }
}
