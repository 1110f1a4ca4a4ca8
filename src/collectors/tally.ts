/**
 * One coverage tally per scan, shared by every collector: each scope a collector reads opens a
 * ScopeTally, which counts records, unreadable records (located, the first few listed) and
 * failed files, tracks the time window of what it read, and becomes one CoverageEntry.
 */
import type { Location } from "../model/diagnostics.js";
import type { CoverageEntry, SourceKind } from "../model/finding.js";
import type { TimeWindow } from "./types.js";

/** Problems listed by place in a coverage reason; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 5;

function where(loc: Location): string {
  const at = loc.file ?? loc.url ?? "";
  return `${at}${loc.line ? `:${loc.line}` : ""}${loc.element !== undefined ? ` [element ${loc.element}]` : ""}`;
}

/**
 * Sources that always hold records when they work: an Activity Log read that returns none, or
 * an input that yields none, is more likely a broken export, a wrong path or a wrong window
 * than a quiet tenant, so it is `empty`, not `complete` (the gate fails closed on it). The
 * inventory sources (rbac, app-service, …) may truly hold nothing. A scope an incremental scan
 * resumed (read in full before, now from its watermark) may have had a quiet hour: `complete`,
 * with a note.
 */
const EMPTY_IS_SUSPECT: ReadonlySet<SourceKind> = new Set(["files", "activity-log", "workspace", "archive"]);

export class ScopeTally {
  records = 0;
  unreadable = 0;
  failedParts = 0;
  /** The first problems by place (file, line): which are listed never depends on the read order. */
  private readonly problems: { file: string; line: number; text: string }[] = [];
  private readonly notes: string[] = [];
  private from?: string;
  private to?: string;
  private failure?: string;
  private declared?: TimeWindow;

  constructor(
    readonly source: SourceKind,
    readonly scope: string,
    /** How many parts (files, pages, hours) the scope has; all failed → `failed`. */
    private readonly parts: number,
  ) {}

  /** A record was read; `time` (ISO-8601 UTC) widens the observed window when given. */
  record(time?: string): void {
    this.records++;
    if (time !== undefined) {
      if (this.from === undefined || time < this.from) this.from = time;
      if (this.to === undefined || time > this.to) this.to = time;
    }
  }

  /** Many records read elsewhere (a worker thread), with the window they span. */
  recordMany(n: number, from?: string, to?: string): void {
    this.records += n;
    if (from !== undefined && (this.from === undefined || from < this.from)) this.from = from;
    if (to !== undefined && (this.to === undefined || to > this.to)) this.to = to;
  }

  /** Items read here that become a record in another scope (app settings joined to their site). */
  private held = 0;

  /** An item was read that is not a record by itself here: the scope is not empty. */
  heldForJoin(): void {
    this.held++;
  }

  /** One record could not be read; counted, and the first few located. */
  unreadableRecord(loc: Location, what: string): void {
    this.unreadable++;
    this.listProblem(loc, what);
  }

  /**
   * A record read and set aside: no Activity Log event (a resource, sign-in or metric log; counted,
   * the scope stays complete and its window is not widened), or an event whose operation is only
   * a display name that maps to none (the scope is partial: a rule may have needed it).
   */
  skippedRecord(kind: "not-activity" | "unresolved", loc: Location, what: string): void {
    const list = kind === "not-activity" ? this.notActivity : this.unresolved;
    list.count++;
    if (list.first.length < MAX_LISTED_PROBLEMS) list.first.push(`${where(loc)} ${what}`);
  }
  private readonly notActivity = { count: 0, first: [] as string[] };
  private readonly unresolved = { count: 0, first: [] as string[] };

  /** One part (file, page) could not be read at all. */
  partFailed(loc: Location, what: string): void {
    this.failedParts++;
    this.listProblem(loc, what);
  }

  private listProblem(loc: Location, what: string): void {
    const p = { file: loc.file ?? loc.url ?? "", line: loc.line ?? 0, text: `${where(loc)} ${what}` };
    const before = (a: typeof p, b: typeof p) => a.file < b.file || (a.file === b.file && a.line < b.line);
    const last = this.problems[this.problems.length - 1];
    if (this.problems.length >= MAX_LISTED_PROBLEMS && last && !before(p, last)) return;
    let i = this.problems.length;
    while (i > 0 && before(p, this.problems[i - 1] as typeof p)) i--;
    this.problems.splice(i, 0, p);
    if (this.problems.length > MAX_LISTED_PROBLEMS) this.problems.length = MAX_LISTED_PROBLEMS;
  }

  /** The whole scope could not be read (403, retries exhausted, …). */
  failed(reason: string): void {
    this.failure = reason;
  }

  /**
   * One read of the scope failed (a live call refused or out of retries): the scope is partial
   * with the reason, or failed when nothing at all was read from it.
   */
  missed(reason: string): void {
    if (!this.missedReads.includes(reason)) this.missedReads.push(reason);
  }
  private readonly missedReads: string[] = [];

  /** Something the reader should know that does not make the scope partial. */
  note(text: string): void {
    this.notes.push(text);
  }

  /** The window the source declares (snapshot metadata, requested --since/--until) wins. */
  declareWindow(w: TimeWindow | undefined): void {
    this.declared = w;
  }

  entry(): CoverageEntry {
    const bad = this.unreadable + this.failedParts + this.unresolved.count;
    const missed = this.missedReads.length > 0;
    const status: CoverageEntry["status"] =
      this.failure !== undefined || (this.parts > 0 && this.failedParts >= this.parts) || (missed && this.records === 0)
        ? "failed"
        : bad > 0 || missed
          ? "partial"
          : this.records === 0 && this.held === 0 && EMPTY_IS_SUSPECT.has(this.source) && !this.declared?.resumedFrom
            ? "empty"
            : "complete";
    const reasons: string[] = [];
    if (status === "empty") reasons.push("no records read");
    if (status === "complete" && this.records === 0 && this.declared?.resumedFrom)
      reasons.push(`no events since the last complete read (resumed from ${this.declared.resumedFrom})`);
    if (this.failure !== undefined) reasons.push(this.failure);
    reasons.push(...this.missedReads);
    if (this.unreadable > 0) reasons.push(`${this.unreadable} unreadable record(s) skipped`);
    if (this.failedParts > 0) reasons.push(`${this.failedParts} file(s) could not be read`);
    if (this.problems.length > 0) reasons.push(`first: ${this.problems.map((p) => p.text).join("; ")}`);
    if (this.unresolved.count > 0)
      reasons.push(
        `${this.unresolved.count} record(s) with an operation name not resolvable (a display name only; first: ${this.unresolved.first.join("; ")})`,
      );
    if (this.notActivity.count > 0)
      reasons.push(
        `${this.notActivity.count} record(s) not Activity Log events, set aside (first: ${this.notActivity.first.join("; ")})`,
      );
    // Notes qualify what was read; of a scope nothing could be read from they would only be noise.
    if (status !== "failed") reasons.push(...this.notes);
    const e: CoverageEntry = { source: this.source, scope: this.scope, status, records: this.records };
    const from = this.declared?.from ?? this.from;
    const to = this.declared?.to ?? this.to;
    if (from) e.from = from;
    if (to) e.to = to;
    if (this.declared?.resumedFrom) e.resumedFrom = this.declared.resumedFrom;
    // Key order as the files source always wrote it: …, reason, unreadable.
    if (reasons.length > 0) e.reason = reasons.join(". ");
    if (this.unreadable > 0) e.unreadable = this.unreadable;
    if (this.unresolved.count > 0) e.unresolved = this.unresolved.count;
    if (this.notActivity.count > 0) e.notActivity = this.notActivity.count;
    return e;
  }
}

export class CoverageTally {
  private readonly scopes: ScopeTally[] = [];

  open(source: SourceKind, scope: string, parts = 0): ScopeTally {
    const t = new ScopeTally(source, scope, parts);
    this.scopes.push(t);
    return t;
  }

  /** Scopes opened so far (progress on a terminal). */
  get size(): number {
    return this.scopes.length;
  }

  entries(): CoverageEntry[] {
    return this.scopes.map((s) => s.entry());
  }
}
