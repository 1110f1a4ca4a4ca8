/**
 * Stage: grouping matches into findings as they stream past. A finding is what is distinct: one
 * per rule, principal and resource for Activity Log matches (every operation instance — the
 * Started/Accepted/Succeeded records of one call — is an occurrence of it), one per rule and
 * first-seen key, one per rule and configured resource. So a pipeline that runs a command on a
 * thousand VMs a day makes a thousand findings, not a thousand per day, and a group costs the
 * same whether it saw ten records or ten million: it keeps counts, first and last times, and the
 * earliest and latest few records by time (so which records are listed never depends on the
 * order the input arrived in).
 */
import { canonicalOperation } from "../azure/catalog/canonical.js";
import { excerpt, matchSpan } from "../matcher/locate.js";
import type { RecordView } from "../matcher/view.js";
import type { EvidenceRecord, PayloadExcerpt } from "../model/finding.js";
import type { ActivityEvent, AuditRecord } from "../model/records.js";
import type { EngineRule } from "../rules/loader.js";
import { compactActivity, intern } from "./compact.js";
import { type EngineState, type GroupStore, heapify, replaceTop } from "./state.js";

/** Source records listed per finding: the earliest and the latest this many by time; the rest are counted. */
export const EVIDENCE_EACH_END = 10;
/** Listed records of a chain finding. */
export const MAX_EVIDENCE_RECORDS = 50;
/** Operation instances counted exactly per finding; past it the count is a lower bound. */
export const MAX_COUNTED_OCCURRENCES = 100;
/** Longest matched value kept per field (reports cap strings at 8 KiB anyway). */
const MAX_MATCHED_CHARS = 2048;

/** FNV-1a: instance keys are counted by hash, so a group keeps numbers, not strings. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Longest payload text a finding shows: markdown prints it whole, and every report keeps it (under 8 KiB). */
export const PAYLOAD_EXCERPT_CHARS = 4096;

/**
 * A payload longer than this names the part the rule found in it (`found`, at most this long), so
 * that a view shorter than the whole payload (the table's one line) can show that part.
 */
export const PAYLOAD_FOUND_CHARS = 160;

/**
 * The text of a match, at most PAYLOAD_FOUND_CHARS long. A match of no width (a rule made of
 * lookaheads, `^(?=…)`) stands for the line it starts: that line.
 */
function foundPart(content: string, [s, e]: readonly [number, number]): string | undefined {
  let end = e;
  if (end <= s) {
    end = content.indexOf("\n", s);
    if (end < 0) end = content.length;
  }
  const part = content.slice(s, Math.min(end, s + PAYLOAD_FOUND_CHARS));
  return part.trim() ? part : undefined;
}

/** Where a value shown cut came from: its length and where the part shown starts. */
export interface Cut {
  length: number;
  offset: number;
}
/** Matching payloads listed per finding. */
const MAX_PAYLOADS_PER_FINDING = 5;
/** Distinct operations kept per finding (the report lists them sorted). */
const MAX_LISTED_OPERATIONS = 200;

interface Sampled {
  time: string;
  ev: EvidenceRecord;
}

const order = (a: Sampled, b: Sampled) =>
  a.time < b.time ? -1 : a.time > b.time ? 1 : a.ev.id < b.ev.id ? -1 : a.ev.id > b.ev.id ? 1 : 0;

/** The earliest and latest few records of a group, by time then id: the same whatever the input order. */
export class RecordSample {
  private earliest: Sampled[] = [];
  private latest: Sampled[] = [];

  add(time: string, ev: EvidenceRecord): void {
    const s: Sampled = { time, ev };
    this.earliest = keep(this.earliest, s, (a, b) => order(a, b));
    this.latest = keep(this.latest, s, (a, b) => order(b, a));
  }

  list(): EvidenceRecord[] {
    const all = [...this.earliest];
    for (const s of this.latest) if (!all.some((x) => same(x, s))) all.push(s);
    return all.sort(order).map((s) => s.ev);
  }
}

const same = (a: Sampled, b: Sampled) => a.ev.id === b.ev.id && a.ev.kind === b.ev.kind;

/**
 * `list` with `s` inserted in `cmp` order, at most EVIDENCE_EACH_END long, without duplicates:
 * a new array of exactly that length when `s` is kept (one grown in place keeps spare room for
 * 17), the same array when it is not.
 */
function keep(list: Sampled[], s: Sampled, cmp: (a: Sampled, b: Sampled) => number): Sampled[] {
  const last = list[list.length - 1];
  if (list.length >= EVIDENCE_EACH_END && last && cmp(s, last) >= 0) return list;
  for (const x of list) if (same(x, s)) return list;
  let i = list.length;
  while (i > 0 && cmp(s, list[i - 1] as Sampled) < 0) i--;
  return list.slice(0, i).concat(s, list.slice(i, EVIDENCE_EACH_END - 1));
}

export interface Group {
  rule: EngineRule;
  key: string;
  first: AuditRecord;
  sample: RecordSample;
  /** Matching records in all. */
  count: number;
  /**
   * Distinct operation instances (hashes of correlation id + resource), counted up to
   * MAX_COUNTED_OCCURRENCES. This and the two lists below are arrays grown by `concat`, not
   * sets: most groups hold a few values, and a Set's table is about 150 bytes from its first
   * value while an array made by `concat` has no spare room (58 bytes for one number; `push`
   * leaves room for 17). Appends are rare next to lookups.
   */
  instances: number[];
  /** Instances past the counted ones were seen. */
  moreInstances: boolean;
  firstTime?: string;
  lastTime?: string;
  /** Distinct statuses. */
  statuses: string[];
  /** Distinct operations (canonical spelling), up to MAX_LISTED_OPERATIONS. */
  operations: string[];
  fsKey?: string;
  fsValues?: Record<string, unknown>;
  matched: Record<string, unknown>;
  /** Matched values shown cut (a window around what the rule found), by field (`field[i]` in a list). */
  matchedCuts?: Record<string, Cut>;
  /** The earliest failed record's status message (and its time and id, to pick the earliest). */
  failure?: { time: string; id: string; message: unknown };
  /** Payloads of one resource that matched (a script and a command of one image, say). */
  payloads: PayloadExcerpt[];
}

/** The source record a record's evidence points at (a payload's is its configuration). */
export function evidenceOf(r: AuditRecord): EvidenceRecord {
  // One literal with every field (compact.ts says why); the kind interned: a record from a worker
  // thread carries its own copy of the string.
  return {
    kind:
      r.kind === "payload" ? r.source.kind : r.kind === "grant" ? "roleAssignment" : (intern(r.kind) as typeof r.kind),
    id: r.kind === "payload" ? r.source.id : r.kind === "activity" ? (r.eventDataId ?? r.id) : r.id,
    location: intern(r.origin.location),
    index: r.origin.index,
    element: r.origin.element,
  };
}

/** One call's records share a correlation id and resource: the operation instance. */
export function instanceKey(r: ActivityEvent): string {
  return `${(r.correlationId ?? r.id).toLowerCase()}\u001f${(r.resourceId ?? "").toLowerCase()}`;
}

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class Grouping {
  private readonly groups: GroupStore<Group>;
  /** Rule id → matches not reported because of the findings bound (of groups refused or let go). */
  readonly dropped = new Map<string, number>();
  /**
   * The keys of the groups held once the findings bound is reached, as a max-heap (state.ts):
   * past the bound the groups kept are those with the smallest keys, whatever order matches
   * arrived in (two worker threads interleave), so a scan over its bound gives the same report
   * every time.
   */
  private heap?: string[];

  private drop(ruleId: string, n: number): void {
    this.dropped.set(ruleId, (this.dropped.get(ruleId) ?? 0) + n);
  }

  constructor(
    state: EngineState,
    private readonly limit: number,
  ) {
    this.groups = state.groups<Group>();
  }

  all(): IterableIterator<Group> {
    return this.groups.values();
  }

  private keyOf(rule: EngineRule, r: AuditRecord, fsKey: string | undefined): string {
    if (fsKey !== undefined) return `${rule.id}\u001ffs\u001f${fsKey}`;
    if (r.kind === "activity") {
      const who = (r.principal.id ?? r.principal.name ?? "").toLowerCase();
      return `${rule.id}\u001f${(r.resourceId ?? "").toLowerCase()}\u001f${who}`;
    }
    // Payloads group by the configuration they came from: one finding per rule and resource.
    const id = r.kind === "payload" ? r.source.id : r.id;
    return `${rule.id}\u001f${r.kind}\u001f${id.toLowerCase()}`;
  }

  add(rule: EngineRule, r: AuditRecord, view: RecordView, fsKey: string | undefined): void {
    const key = this.keyOf(rule, r, fsKey);
    let g = this.groups.get(key);
    let cuts: Record<string, Cut> | undefined;
    /** A long value cut to a window around the place the rule matched it, and the cut noted. */
    const capped = (f: string, key: string, v: unknown): unknown => {
      if (typeof v !== "string" || v.length <= MAX_MATCHED_CHARS) return v;
      const x = excerpt(
        v,
        MAX_MATCHED_CHARS,
        matchSpan(rule, (name) => name === f, v),
      );
      cuts ??= {};
      cuts[key] = { length: v.length, offset: x.offset };
      return x.text;
    };
    const matchedOf = () => {
      cuts = undefined;
      const matched: Record<string, unknown> = {};
      for (const f of rule.matcher.fields) {
        const v = view.field(f);
        if (v.length > 0)
          matched[f] = v.length === 1 ? capped(f, f, v[0]) : v.slice(0, 10).map((x, i) => capped(f, `${f}[${i}]`, x));
      }
      return matched;
    };
    const setMatched = (grp: Group) => {
      grp.matched = matchedOf();
      if (cuts) grp.matchedCuts = cuts;
      else delete grp.matchedCuts;
    };
    const fs = rule.ext.firstseen;
    const fsValuesOf = () => (fs ? Object.fromEntries(fs.fields.map((f) => [f, view.field(f)[0]])) : undefined);
    if (!g) {
      const matched = matchedOf();
      if (this.groups.size >= this.limit) {
        // Bounded: the groups with the smallest keys are kept. A key above the largest held is
        // counted, not kept; one below it takes the place of the largest, whose matches are
        // counted instead. The largest key held only falls, so a key let go never comes back
        // and a key kept at the end saw every one of its matches.
        if (!this.heap) {
          this.heap = [...this.groups.keys()];
          heapify(this.heap, byKey);
        }
        const max = this.heap[0];
        if (max === undefined || key > max) {
          this.drop(rule.id, 1);
          return;
        }
        const evicted = this.groups.get(max) as Group;
        this.drop(evicted.rule.id, evicted.count);
        this.groups.delete(max);
        replaceTop(this.heap, key, byKey);
      }
      g = {
        rule,
        key,
        first: r,
        sample: new RecordSample(),
        count: 0,
        instances: [],
        moreInstances: false,
        statuses: [],
        operations: [],
        matched,
        payloads: [],
      };
      if (cuts) g.matchedCuts = cuts;
      if (fsKey !== undefined && fs) {
        g.fsKey = fsKey;
        g.fsValues = fsValuesOf();
      }
      this.groups.set(key, g);
    } else if (r.kind !== "activity" && r.id < g.first.id) {
      // Configuration: the group shows its smallest record, whatever arrived first.
      g.first = r;
      setMatched(g);
    }
    g.count++;
    const ev = view.memo("evidence", () => evidenceOf(r));
    g.sample.add(r.kind === "activity" ? r.time : "", ev);
    if (r.kind === "payload") {
      // The first few by path and content, so which are shown does not depend on the input order.
      // A long payload is shown as a window around what the rule found in it, not its head.
      const content = r.content;
      // Where the rule's value is in it: the window is cut around it, and a shorter view (the
      // table's one line) can show that part too. Payloads are few (configuration records).
      const span =
        content.length > PAYLOAD_FOUND_CHARS
          ? matchSpan(rule, (f) => view.field(f).includes(content), content)
          : undefined;
      const x = excerpt(content, PAYLOAD_EXCERPT_CHARS, span);
      const found =
        span && span[0] >= x.offset && span[0] < x.offset + x.text.length ? foundPart(content, span) : undefined;
      const p: PayloadExcerpt = {
        kind: r.payloadKind,
        path: r.path,
        content: x.text,
        truncated: r.truncated || x.truncated,
        vector: r.vector,
        ...(x.truncated ? { length: content.length, offset: x.offset } : {}),
        ...(found ? { found } : {}),
      };
      const byPlace = (a: PayloadExcerpt, b: PayloadExcerpt) =>
        a.path < b.path ? -1 : a.path > b.path ? 1 : a.content < b.content ? -1 : a.content > b.content ? 1 : 0;
      if (!g.payloads.some((x) => byPlace(x, p) === 0)) {
        g.payloads.push(p);
        g.payloads.sort(byPlace);
        if (g.payloads.length > MAX_PAYLOADS_PER_FINDING) g.payloads.length = MAX_PAYLOADS_PER_FINDING;
      }
    }
    if (r.kind === "activity") {
      const instance = view.memo("instanceHash", () => hash32(instanceKey(r)));
      if (!g.instances.includes(instance)) {
        if (g.instances.length < MAX_COUNTED_OCCURRENCES) g.instances = g.instances.concat(instance);
        else g.moreInstances = true;
      }
      if (
        g.firstTime === undefined ||
        r.time < g.firstTime ||
        (r.time === g.firstTime && r.id < (g.first as ActivityEvent).id)
      ) {
        const replacing = g.firstTime !== undefined;
        g.firstTime = r.time;
        // A small copy: a group outlives the stream, the event's raw object and properties need not.
        g.first = view.memo("compact", () => compactActivity(r));
        // What the finding shows is the earliest record's, whatever arrived first.
        if (replacing) {
          setMatched(g);
          if (g.fsKey !== undefined) g.fsValues = fsValuesOf();
        }
      }
      if (g.lastTime === undefined || r.time > g.lastTime) g.lastTime = r.time;
      if (r.status && !g.statuses.includes(r.status)) g.statuses = g.statuses.concat(r.status);
      // The earliest failure, so the message shown does not depend on the input order.
      if (
        r.status === "Failed" &&
        (!g.failure || r.time < g.failure.time || (r.time === g.failure.time && r.id < g.failure.id))
      )
        g.failure = { time: r.time, id: r.id, message: r.properties.statusMessage ?? r.subStatus };
      // One spelling per operation, whatever case the input wrote it in.
      const op = canonicalOperation(r.operationName);
      if (g.operations.length < MAX_LISTED_OPERATIONS && !g.operations.includes(op))
        g.operations = g.operations.concat(op);
    }
    this.groups.set(key, g);
  }
}
