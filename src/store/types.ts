/**
 * The state store's contract: what a scan with state keeps between runs (scans, findings and
 * their lifecycle, the digest cache). `sqlite.ts` implements it on one embedded SQLite file;
 * the CLI knows only these interfaces.
 */

import type { ResumePoint } from "../collectors/types.js";
import type { BaselineHistory } from "../engine/engine.js";
import type { EngineState } from "../engine/state.js";
import type { ResolvedFinding, ScanResult } from "../model/finding.js";
import type { DigestCache } from "./digest-cache.js";

/** Where the state lives unless --state or --no-state says otherwise (relative to the working directory). */
export const DEFAULT_STATE_FILE = ".azure-exec-audit/state.db";

/** How far before its watermark an incremental read starts again, for events that arrive late. */
export const DEFAULT_OVERLAP_MS = 60 * 60 * 1000;

/**
 * A scan's incremental reading (docs/scheduled-scans.md, "Incremental scans"): where each
 * windowed source × scope resumes, and the events an earlier scan already read in the overlap.
 */
export interface Incremental {
  /** Where a scope resumes; undefined when it has no watermark, or when resuming is off (--since given). */
  readonly resume: ResumePoint;
  /** An Activity Log event (by record id) an earlier scan read in the overlap this scan reads again. */
  seen(id: string): boolean;
  /** An event this scan read: kept when it falls in the overlap the next scan reads again. */
  read(id: string, time: string): void;
  /** The end of this scan's window: events from it minus the overlap are kept for the next scan. */
  until(end: Date): void;
}

/** A finding's status as `findings list` shows it: `new` is an open finding first seen by the latest scan. */
export type ListStatus = "new" | "open" | "resolved" | "suppressed";
export const LIST_STATUSES: readonly ListStatus[] = ["new", "open", "resolved", "suppressed"];

export interface ScanRow {
  id: string;
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  /** Findings the scan reported, those of them that were new, and findings it resolved. */
  findings: number;
  new: number;
  resolved: number;
}

/** A stored finding: what a resolved one reports, with its status and the scans that saw it. */
export interface FindingRow extends ResolvedFinding {
  status: ListStatus;
  firstScanId: string;
  lastScanId: string;
  resolvedAt?: string;
  resolvedScanId?: string;
}

/** What changed between two scans of one state. */
export interface ScanDiff {
  from: ScanRow;
  to: ScanRow;
  /** Reported by `to`, not by `from`. */
  added: FindingRow[];
  /** Reported by `from`, resolved by `to` or a scan between them. */
  resolved: FindingRow[];
  /** Reported by `from`, not by `to`, and not resolved: `to` could not see them (incomplete, narrower scope). */
  notSeen: FindingRow[];
  /** Reported by both. */
  unchanged: number;
}

/** Record kinds a scan read, so that a finding is resolved only when its kind of source was read. */
export type ReadKinds = ReadonlySet<string>;

/**
 * A scan's hold on the state: opened (and locked) before anything is read; `apply` sets each
 * finding's status and firstSeen and lists resolved ones; `commit` writes all of it at once.
 * Until `commit`, nothing the scan did is visible in the file: a scan killed at any point leaves
 * the state as it was.
 */
export interface ScanSession {
  readonly file: string;
  /** The digest cache carried across scans (live registries). */
  readonly digests: DigestCache;
  /**
   * The engine state for this scan, with the first-seen baselines earlier scans kept, and the span
   * of Activity Log they cover. `apply` stores the baselines back (complete scans only).
   */
  engine(): { state: EngineState; history?: BaselineHistory };
  /**
   * Incremental reading for this scan; `resume` false reads the window given (an explicit
   * --since) but still records what the next scan needs. Watermarks advance in `apply`, for
   * scopes read in full only, so a scope that failed is read again from its own watermark.
   */
  incremental(overlapMs: number, resume: boolean): Incremental;
  apply(result: ScanResult, read: ReadKinds): ScanResult;
  /**
   * Puts rows for an exporter in the outbox, in this scan's transaction: they commit with the
   * findings or not at all. A row already there (same exporter, finding and scan) is kept as it is.
   */
  enqueue(exporter: string, items: readonly OutboxItem[]): void;
  commit(): void;
  /** Drops everything this scan wrote and releases the lock. */
  abandon(): void;
}

/** Read-only access for `findings list` and `findings diff`. */
export interface StateReader {
  readonly file: string;
  scans(): ScanRow[];
  findings(status?: ListStatus): FindingRow[];
  /** The latest scan against `since` (a scan id; default the scan before the latest). */
  diff(since?: string): ScanDiff;
  close(): void;
}

/** A row waiting for an exporter: already redacted, in the shape the receiver takes. */
export interface OutboxItem {
  findingId: string;
  scanId: string;
  payload: unknown;
}

export interface OutboxEntry extends OutboxItem {
  seq: number;
  attempts: number;
}

/**
 * The outbox outside a scan (`export sentinel`, and a scan's own export after its commit). It
 * holds no lock while rows travel: reading a page and settling it are short transactions of their
 * own, so a scan is never kept waiting for the network. Two flushes at once may send a row twice;
 * at-least-once delivery allows that, and FindingId + ScanId deduplicate downstream.
 */
export interface Outbox {
  readonly file: string;
  /** Entries after `afterSeq`, in order, up to `limit` rows or about `maxBytes` of payload. */
  page(exporter: string, afterSeq: number, limit: number, maxBytes: number): OutboxEntry[];
  /** Drops what the receiver accepted; counts an attempt and keeps the reason for what it did not. */
  settle(exporter: string, accepted: readonly number[], failed: readonly { seq: number; reason: string }[]): void;
  /** Rows waiting, and the reason of the latest failure among them. */
  waiting(exporter: string): { rows: number; lastError?: string };
  close(): void;
}
