/**
 * The collector contract. A collector reads one kind of source (files, the Activity Log REST
 * API, a workspace, an archive, RBAC, …): `plan` resolves what it will read and fails early on
 * usage mistakes (exit 3) before anything is read; `collect` yields normalised records and
 * reports what it read — and what it could not — through the scan's one coverage tally.
 * Shaped like an Azure SDK client: an options bag, an AbortSignal, an async iterator.
 */
import type { Diagnostics } from "../model/diagnostics.js";
import type { SourceKind } from "../model/finding.js";
import type { ActivityObservation, AuditRecord, CollectedItem, LineRef, RecordKind } from "../model/records.js";
import type { CoverageTally } from "./tally.js";

/** The time window a source covers, when it knows one (a snapshot's metadata, --since/--until). */
export interface TimeWindow {
  from?: string;
  to?: string;
  /** The watermark an incremental read resumed from (`from` is it minus the overlap). */
  resumedFrom?: string;
}

/** Sources that read an Activity Log window (--since/--until): incremental with state. */
export const WINDOWED_SOURCES: ReadonlySet<SourceKind> = new Set<SourceKind>(["activity-log", "workspace", "archive"]);

/**
 * Where a windowed source resumes reading one scope in an incremental scan: the scope's
 * watermark (where its last complete read ended) minus the overlap for late events. Undefined
 * when the scope has none (never read in full): the source reads the window it was given.
 */
export type ResumePoint = (source: SourceKind, scope: string) => { since: Date; watermark: string } | undefined;

/** The start and the declared window of one scope read from `since`, or resumed when `resume` says so. */
export function scopeWindow(
  resume: ResumePoint | undefined,
  source: SourceKind,
  scope: string,
  since: Date,
  until: Date,
): { since: Date; window: TimeWindow } {
  const r = resume?.(source, scope);
  // A watermark at or past the end of the window (a past --until) has nothing new: the window stands.
  if (!r || r.since.getTime() >= until.getTime())
    return { since, window: { from: since.toISOString(), to: until.toISOString() } };
  return { since: r.since, window: { from: r.since.toISOString(), to: until.toISOString(), resumedFrom: r.watermark } };
}

/** What a collector will read: one scope per coverage entry it will report. */
export interface CollectionPlan {
  source: SourceKind;
  /** Scope names in the order they will be read (input paths, subscription ids, …). */
  scopes: string[];
  /** The window the source itself declares; first-seen learning starts from it. */
  window?: TimeWindow;
}

export interface PlanOptions {
  abortSignal?: AbortSignal;
}

/**
 * Decides from a line's bytes (`bytes[start, end)`) whether it needs parsing: undefined means
 * parse it; otherwise the few fields every stage needs of an event no rule reads (see
 * azure/prefilter.ts).
 */
export interface LineFilter {
  observe(bytes: Buffer, start: number, end: number): Omit<ActivityObservation, "kind" | "at"> | undefined;
  /**
   * In a worker thread, instead of `observe`: applies a line it clears to the range's own
   * aggregate at once (no observation is made); false when the line must be parsed.
   */
  take?(bytes: Buffer, start: number, end: number, line: number, offset: number): boolean;
  /**
   * How a worker thread makes the same filter: a module URL exporting
   * `createLineFilter(options): LineFilter`, and plain-data options for it.
   */
  readonly worker?: { module: string; options: unknown };
}

/**
 * What the pre-filter knows, as plain data for a source that filters on its own side (a
 * workspace's KQL): the operations the loaded rules (and attribution) read in full, the
 * first-seen field tuples, and the bounds of baselines and writes. Given exactly when `filter` is.
 */
export interface Pushdown {
  /** Lower-cased operation names. */
  operations: readonly string[];
  /** The first-seen rules' field tuples, spelled as the rules spell them. */
  firstSeen: readonly (readonly string[])[];
  limits: { baselineKeys: number; writers: number };
}

export interface CollectOptions {
  /** When given, lines it clears are not parsed; they arrive as observations. */
  filter?: LineFilter;
  /** The same pre-filter as plain data (see Pushdown). */
  pushdown?: Pushdown;
  abortSignal?: AbortSignal;
  /** The scan's coverage tally: every scope read is one entry with its status and reason. */
  tally: CoverageTally;
  /** The scan's diagnostics, for things that are not coverage (an orphaned app setting, say). */
  diagnostics: Diagnostics;
  /**
   * The record kinds the loaded rules read (payload rules: `payload`). A collector may skip a
   * costly read whose records no rule can use (the registry's image layers feed only payload
   * rules). Undefined: read everything.
   */
  ruleKinds?: ReadonlySet<RecordKind>;
}

export interface Collector {
  /** The source kind its coverage entries carry. */
  readonly source: SourceKind;
  /** Resolves inputs and scopes; throws UsageError for what the user must fix. */
  plan(options?: PlanOptions): Promise<CollectionPlan>;
  /**
   * Reads what `plan` resolved. Records stream out in batches (a chunk or a page at a time: an
   * async step per record would cost more than reading it) and are not kept.
   */
  collect(plan: CollectionPlan, options: CollectOptions): AsyncIterable<readonly CollectedItem[]>;
  /**
   * Reads in full records it yielded as observations (by their `at`), when a later stage needs
   * one — the author of a configured resource. Collectors that never yield observations omit it.
   */
  readBack?(refs: readonly LineRef[]): Promise<AuditRecord[]>;
}
