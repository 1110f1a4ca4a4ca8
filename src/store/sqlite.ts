/**
 * The state store on one embedded SQLite file (`node:sqlite`, no native addon): scans, findings
 * with their lifecycle, and the digest cache.
 *
 * - Identity: `PRAGMA application_id` marks the file as ours and `PRAGMA user_version` is the
 *   schema version; migrations run in order inside the scan's transaction. Anything else (not
 *   SQLite, someone else's SQLite, a newer schema) is refused before a byte is written.
 * - One transaction per scan: a scan takes `BEGIN IMMEDIATE` before it reads anything and
 *   commits once, after its report is written. The write lock is the scan lock — a second scan
 *   on the same file waits `LOCK_WAIT_MS` and then fails with one sentence — and the operating
 *   system releases it when a process dies, so a scan killed at any point (SIGKILL included)
 *   leaves neither a stale lock nor half its writes: SQLite rolls back the uncommitted WAL frames.
 * - WAL journal: `findings list` and `diff` read while a scan holds the lock.
 * - Retention: every scan prunes, in its own transaction, what is older than `RETENTION`
 *   (`pruneStore`); `state prune` does the same on demand, under the same lock, then compacts.
 */

import { accessSync, constants, existsSync, mkdirSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { WINDOWED_SOURCES } from "../collectors/types.js";
import type { Baseline } from "../engine/baseline.js";
import type { CorrEvent } from "../engine/correlate.js";
import { type BaselineHistory, withHistory } from "../engine/engine.js";
import {
  type BoundedBuffer,
  type EngineState,
  HashStore,
  MemoryState,
  offerToFull,
  type Store,
} from "../engine/state.js";
import type { CoverageEntry, Finding, ResolvedFinding, ScanResult, Severity } from "../model/finding.js";
import type { AuditRecord, Principal } from "../model/records.js";
import { UsageError } from "../util/errors.js";
import { redactDeep, redactText } from "../util/redact.js";
import { cap } from "../util/text.js";
import { type DigestCache, type DigestFacts, type DigestKind, MemoryDigestCache } from "./digest-cache.js";
import { absenceFacts, canResolve } from "./lifecycle.js";
import type {
  FindingRow,
  Incremental,
  ListStatus,
  Outbox,
  OutboxEntry,
  OutboxItem,
  ReadKinds,
  ScanDiff,
  ScanRow,
  ScanSession,
  StateReader,
} from "./types.js";

/** "AEA1": marks a file as an azure-exec-audit state file. */
export const APPLICATION_ID = 0x41454131;

/** How long a scan waits for another scan on the same state to finish. */
export const LOCK_WAIT_MS = 5_000;

/** Longest text kept per column (titles, resource ids come from attacker-controlled data). */
const MAX_TEXT = 4096;

/** Ordered migrations: entry i takes the schema from version i to i + 1. Never edit one; append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE scans (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     started_at TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     complete INTEGER NOT NULL,
     coverage TEXT NOT NULL,
     findings INTEGER NOT NULL DEFAULT 0,
     new INTEGER NOT NULL DEFAULT 0,
     resolved INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE findings (
     id TEXT PRIMARY KEY,
     rule_id TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL,
     subscription_id TEXT,
     resource_id TEXT NOT NULL,
     principal TEXT NOT NULL,
     absence TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'suppressed')),
     first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL,
     first_scan INTEGER NOT NULL REFERENCES scans(seq),
     last_scan INTEGER NOT NULL REFERENCES scans(seq),
     resolved_at TEXT,
     resolved_scan INTEGER REFERENCES scans(seq)
   );
   CREATE INDEX findings_status ON findings(status);
   CREATE TABLE scan_findings (
     scan INTEGER NOT NULL REFERENCES scans(seq),
     finding TEXT NOT NULL,
     status TEXT NOT NULL,
     PRIMARY KEY (scan, finding)
   ) WITHOUT ROWID;`,
  `CREATE TABLE digests (
     kind TEXT NOT NULL,
     digest TEXT NOT NULL,
     value TEXT NOT NULL,
     PRIMARY KEY (kind, digest)
   ) WITHOUT ROWID;`,
  `CREATE TABLE baselines (
     tuple TEXT NOT NULL,
     key INTEGER NOT NULL,
     first TEXT NOT NULL,
     PRIMARY KEY (tuple, key)
   ) WITHOUT ROWID;
   CREATE TABLE history (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     from_time TEXT NOT NULL,
     to_time TEXT NOT NULL
   );`,
  // When a digest was last read or written, so that retention can drop what no scan uses any more.
  // Entries older than this column count as used when it was added.
  `ALTER TABLE digests ADD COLUMN last_used TEXT;
   UPDATE digests SET last_used = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');`,
  // Incremental scans: where each windowed source × scope's last complete read ended, the ids of
  // events read in the overlap the next scan reads again, the latest write per resource
  // (attribution) and the correlation matches whose window is still open (a rowid table: its
  // rows are a kilobyte each, which WITHOUT ROWID would spread over overflow pages).
  `CREATE TABLE watermarks (
     source TEXT NOT NULL,
     scope TEXT NOT NULL,
     until TEXT NOT NULL,
     PRIMARY KEY (source, scope)
   ) WITHOUT ROWID;
   CREATE TABLE overlap_events (
     id TEXT PRIMARY KEY,
     time TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE writers (
     key INTEGER PRIMARY KEY,
     time TEXT NOT NULL,
     value TEXT NOT NULL
   );
   CREATE TABLE imports (
     key INTEGER PRIMARY KEY,
     time TEXT NOT NULL,
     value TEXT NOT NULL
   );
   CREATE TABLE correlation_events (
     correlation TEXT NOT NULL,
     ref TEXT NOT NULL,
     id TEXT NOT NULL,
     time TEXT NOT NULL,
     value TEXT NOT NULL
   );
   CREATE UNIQUE INDEX correlation_events_key ON correlation_events(correlation, ref, id);`,
  // The exporters' outbox (at-least-once delivery, docs/sentinel.md): rows a scan enqueued in its
  // own transaction, deleted only once the receiver accepted them.
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     exporter TEXT NOT NULL,
     finding_id TEXT NOT NULL,
     scan_id TEXT NOT NULL,
     payload TEXT NOT NULL,
     enqueued_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_attempt TEXT,
     last_error TEXT,
     UNIQUE (exporter, finding_id, scan_id)
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** SQLite result codes (the primary code is the low byte of `errcode`). */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

function sqliteCode(e: unknown): number | undefined {
  const c = (e as { errcode?: unknown }).errcode;
  return typeof c === "number" ? c & 0xff : undefined;
}

/** One sentence for a failure on the state file (exit 3); `what` says what was being done. */
function stateError(file: string, e: unknown, what: string): UsageError {
  const code = sqliteCode(e);
  const errno = (e as NodeJS.ErrnoException).code;
  if (code === SQLITE_BUSY || code === SQLITE_LOCKED)
    return new UsageError(
      `state file ${file} is in use by another scan (waited ${LOCK_WAIT_MS / 1000} s); let it finish, or pass another --state`,
    );
  if (code === SQLITE_NOTADB)
    return new UsageError(
      `state file ${file} is not an azure-exec-audit state file (not an SQLite database); it was left untouched: pass another --state, or remove it`,
    );
  if (code === SQLITE_CORRUPT)
    return new UsageError(
      `state file ${file} is corrupted; it was left untouched: restore it from a copy, or remove it to start a new state`,
    );
  if (code === SQLITE_READONLY || errno === "EACCES" || errno === "EPERM" || errno === "EROFS")
    return new UsageError(
      `state file ${file} cannot be written (read-only file or directory); ${what} needs write access to it and its directory${what.startsWith("a scan") ? ", or pass --no-state" : " (SQLite's WAL keeps its index there)"}`,
    );
  if (code === SQLITE_FULL || errno === "ENOSPC" || (code === SQLITE_IOERR && diskFull(file)))
    return new UsageError(
      `state file ${file} cannot be written: the disk is full; the state is as it was before this scan`,
    );
  if (code === SQLITE_CANTOPEN || code === SQLITE_IOERR)
    return new UsageError(
      `state file ${file} cannot be opened (${(e as Error).message}); ${what} needs it readable and writable`,
    );
  return new UsageError(`state file ${file}: ${what} failed (${(e as Error).message})`);
}

/**
 * Whether the state file's file system is (nearly) out of space. SQLite reports a full disk as a
 * plain I/O error when it is the WAL index (-shm) that cannot grow.
 */
function diskFull(file: string): boolean {
  try {
    const fs = statfsSync(dirname(file));
    return fs.bavail * fs.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

interface Identity {
  applicationId: number;
  version: number;
  tables: number;
}

function identify(db: DatabaseSync): Identity {
  const num = (sql: string): number => Number(Object.values(db.prepare(sql).get() ?? {})[0] ?? 0);
  return {
    applicationId: num("PRAGMA application_id") >>> 0,
    version: num("PRAGMA user_version"),
    tables: num("SELECT count(*) FROM sqlite_master"),
  };
}

/** Refuses a file that is not ours (or is newer) before anything is written to it. */
function checkIdentity(file: string, id: Identity): "fresh" | "ours" {
  if (id.applicationId === 0 && id.version === 0 && id.tables === 0) return "fresh";
  if (id.applicationId !== APPLICATION_ID)
    throw new UsageError(
      `state file ${file} is an SQLite database but not an azure-exec-audit state file; it was left untouched: pass another --state`,
    );
  if (id.version > SCHEMA_VERSION)
    throw new UsageError(
      `state file ${file} has schema version ${id.version}, written by a newer azure-exec-audit (this one knows up to ${SCHEMA_VERSION}); it was left untouched: upgrade, or pass another --state`,
    );
  return "ours";
}

function checkIntact(file: string, db: DatabaseSync): void {
  const rows = db.prepare("PRAGMA quick_check").all();
  const first = rows.length === 1 ? Object.values(rows[0] ?? {})[0] : undefined;
  if (first !== "ok")
    throw new UsageError(
      `state file ${file} is corrupted; it was left untouched: restore it from a copy, or remove it to start a new state`,
    );
}

function openDatabase(file: string, readOnly: boolean, what: string): DatabaseSync {
  try {
    return new DatabaseSync(file, { readOnly, timeout: LOCK_WAIT_MS });
  } catch (e) {
    throw stateError(file, e, what);
  }
}

function isoOrEmpty(v: unknown): string {
  return typeof v === "string" ? v : "";
}

const storedText = (s: string): string => cap(redactText(s), MAX_TEXT);

function storedPrincipal(p: Principal): Principal {
  const out: Principal = {};
  if (p.id !== undefined) out.id = storedText(p.id);
  if (p.name !== undefined) out.name = storedText(p.name);
  if (p.type !== undefined) out.type = storedText(p.type);
  if (p.appId !== undefined) out.appId = storedText(p.appId);
  return out;
}

type Row = Record<string, unknown>;

/** A scan's findings in the store: what `apply` reads and writes. */
interface StoredFinding {
  id: string;
  status: "open" | "resolved" | "suppressed";
  first_seen: string;
  first_scan: number;
  last_seen: string;
  last_scan: number;
  absence: string;
}

function findingRow(r: Row, scanIds: Map<number, string>, latest: number | undefined): FindingRow {
  const stored = r.status as "open" | "resolved" | "suppressed";
  const status: ListStatus = stored === "open" && r.first_scan === latest ? "new" : stored;
  const out: FindingRow = {
    id: r.id as string,
    ruleId: r.rule_id as string,
    title: r.title as string,
    severity: r.severity as Severity,
    resourceId: r.resource_id as string,
    principal: JSON.parse(r.principal as string) as Principal,
    status,
    firstSeen: r.first_seen as string,
    lastSeen: r.last_seen as string,
    firstScanId: scanIds.get(r.first_scan as number) ?? "",
    lastScanId: scanIds.get(r.last_scan as number) ?? "",
  };
  if (typeof r.subscription_id === "string") out.subscriptionId = r.subscription_id;
  if (typeof r.resolved_at === "string") out.resolvedAt = r.resolved_at;
  if (typeof r.resolved_scan === "number") out.resolvedScanId = scanIds.get(r.resolved_scan) ?? "";
  return out;
}

function scanRow(r: Row): ScanRow {
  return {
    id: r.id as string,
    startedAt: isoOrEmpty(r.started_at),
    finishedAt: isoOrEmpty(r.finished_at),
    complete: r.complete === 1,
    findings: Number(r.findings),
    new: Number(r.new),
    resolved: Number(r.resolved),
  };
}

/**
 * The digest cache on the store. Reads and writes go through the scan's open transaction, so the
 * entries a scan adds commit with its findings (or vanish with them if it is killed). A config
 * or layer may hold secrets (an image's Env, a cron line with a token): what is written to the
 * file is redacted, while this scan keeps the full value in memory, so a scan's own results do
 * not depend on whether a digest came from the cache.
 */
export class SqliteDigestCache implements DigestCache {
  private readonly memory = new MemoryDigestCache();
  private readonly touched = new Set<string>();
  constructor(
    private readonly db: DatabaseSync,
    private readonly now = new Date().toISOString(),
  ) {}

  get<K extends DigestKind>(kind: K, digest: string): DigestFacts[K] | undefined {
    const mine = this.memory.get(kind, digest);
    if (mine !== undefined) return mine;
    const row = this.db.prepare("SELECT value FROM digests WHERE kind = ? AND digest = ?").get(kind, digest);
    if (!row) return undefined;
    const key = `${kind}\u001f${digest}`;
    if (!this.touched.has(key)) {
      this.touched.add(key);
      this.db.prepare("UPDATE digests SET last_used = ? WHERE kind = ? AND digest = ?").run(this.now, kind, digest);
    }
    try {
      return JSON.parse(row.value as string) as DigestFacts[K];
    } catch {
      return undefined;
    }
  }

  put<K extends DigestKind>(kind: K, digest: string, facts: DigestFacts[K]): void {
    this.memory.put(kind, digest, facts);
    const stored = kind === "manifest" ? facts : redactDeep(facts);
    this.db
      .prepare("INSERT OR REPLACE INTO digests (kind, digest, value, last_used) VALUES (?, ?, ?, ?)")
      .run(kind, digest, JSON.stringify(stored), this.now);
  }
}

/**
 * How long correlation matches carry over to later scans. A correlation whose window is longer
 * sees only this much of earlier scans (the built-in pack's longest timespan is 24 hours).
 */
export const CARRY_HORIZON_MS = 7 * 86_400_000;

const carryKey = (ev: CorrEvent): string => `${ev.ref}\u001f${ev.record.id}`;

/**
 * One correlation's matches: those earlier scans kept (marked `carried`) first, then this scan's.
 * A match read again (a snapshot scanned twice) is not added twice and is this scan's too; one
 * an incremental read skipped (its overlap) stays carried, and a result made only of carried
 * matches is not reported again. What the correlator held when it cleared the buffer is what the store keeps.
 */
class CarriedBuffer implements BoundedBuffer<CorrEvent> {
  private list: CorrEvent[] = [];
  private readonly loaded = new Map<string, CorrEvent>();
  dropped = 0;
  held: CorrEvent[] = [];
  private heaped = false;
  constructor(
    readonly limit: number,
    private readonly order?: (a: CorrEvent, b: CorrEvent) => number,
  ) {}
  load(ev: CorrEvent): void {
    if (this.list.length >= this.limit || this.loaded.has(carryKey(ev))) return;
    this.loaded.set(carryKey(ev), ev);
    this.list.push(ev);
  }
  push(ev: CorrEvent): boolean {
    const known = ev.steps === undefined ? this.loaded.get(carryKey(ev)) : undefined;
    if (known) {
      // Read again by this scan (the same snapshot): it is this scan's match as much as the earlier one's.
      known.carried = false;
      return true;
    }
    if (this.list.length >= this.limit) {
      this.dropped++;
      if (!this.order) return false;
      const kept = offerToFull(this.list, ev, this.order, this.heaped);
      this.heaped = true;
      return kept;
    }
    this.list.push(ev);
    return true;
  }
  items(): CorrEvent[] {
    return this.list;
  }
  /** Whether `ev` is a row an earlier scan stored (read again or not, it is stored already). */
  stored(ev: CorrEvent): boolean {
    return this.loaded.get(carryKey(ev)) === ev;
  }
  clear(): void {
    for (const ev of this.list) this.held.push(ev);
    this.list = [];
    this.heaped = false;
  }
}

/** A writers store that knows which resources this scan wrote (only those are written back). */
class DirtyHashStore<V> extends HashStore<V> {
  readonly dirty = new Set<number>();
  loading = false;
  override set(key: number, value: V): void {
    super.set(key, value);
    if (!this.loading) this.dirty.add(key);
  }
}

/** A correlation match as the store keeps it: the compact event, its group values and time. */
interface StoredCorrEvent {
  ref: string;
  time: string;
  record: AuditRecord;
  group: [string, string[]][];
  counted?: string[];
  novelty?: string;
}

/**
 * The in-memory engine state with what earlier scans kept loaded on first use: first-seen
 * baselines (by `engine()`), the latest write per resource and open correlation windows.
 * Remembers what the engine asked for, to store it back.
 */
class TrackedState extends MemoryState {
  readonly tuples = new Set<string>();
  readonly buffers = new Map<string, CarriedBuffer>();
  writerStore?: DirtyHashStore<unknown>;
  importStore?: DirtyHashStore<unknown>;
  /** Set once the stored baselines are loaded: from then on a baseline notes the keys that change. */
  private trackBaselines = false;
  constructor(private readonly db: DatabaseSync) {
    super();
  }
  override baseline(tuple: string): Baseline {
    const b = super.baseline(tuple);
    if (!this.tuples.has(tuple)) {
      this.tuples.add(tuple);
      if (this.trackBaselines) b.trackChanges();
    }
    return b;
  }
  trackBaselineChanges(): void {
    this.trackBaselines = true;
    for (const t of this.tuples) super.baseline(t).trackChanges();
  }
  override correlation<T>(id: string, limit: number, order?: (a: T, b: T) => number): BoundedBuffer<T> {
    // Configuration matches (`<id>\u001fpending`) come from snapshots every scan reads again.
    if (id.includes("\u001f")) return super.correlation<T>(id, limit, order);
    let b = this.buffers.get(id);
    if (!b) {
      b = new CarriedBuffer(limit, order as ((a: CorrEvent, b: CorrEvent) => number) | undefined);
      for (const r of this.db
        .prepare("SELECT value FROM correlation_events WHERE correlation = ? ORDER BY time, id")
        .iterate(id)) {
        const v = JSON.parse(r.value as string) as StoredCorrEvent;
        const ev: CorrEvent = { ref: v.ref, record: v.record, time: v.time, group: v.group, carried: true };
        if (v.counted) ev.counted = v.counted;
        if (v.novelty !== undefined) ev.novelty = v.novelty;
        b.load(ev);
      }
      this.buffers.set(id, b);
    }
    return b as unknown as BoundedBuffer<T>;
  }
  private load(table: "writers" | "imports"): DirtyHashStore<unknown> {
    const store = new DirtyHashStore<unknown>();
    store.loading = true;
    for (const r of this.db.prepare(`SELECT key, value FROM ${table}`).iterate())
      store.set(Number(r.key), JSON.parse(r.value as string));
    store.loading = false;
    return store;
  }
  override writers<W>(): Store<W, number> {
    this.writerStore ??= this.load("writers");
    return this.writerStore as unknown as Store<W, number>;
  }
  override imports<I>(): Store<I, number> {
    this.importStore ??= this.load("imports");
    return this.importStore as unknown as Store<I, number>;
  }
}

/** Sources whose coverage dates the Activity Log a scan read. */
const EVENT_SOURCES = new Set(["files", "activity-log", "workspace", "archive"]);

/** The Activity Log span a scan read (earliest start, latest end of its event sources), if any. */
function eventSpan(result: ScanResult): BaselineHistory | undefined {
  let from: string | undefined;
  let to: string | undefined;
  for (const c of result.coverage) {
    if (!EVENT_SOURCES.has(c.source) || !c.from || !c.to) continue;
    if (from === undefined || Date.parse(c.from) < Date.parse(from)) from = c.from;
    if (to === undefined || Date.parse(c.to) > Date.parse(to)) to = c.to;
  }
  return from && to ? { from, to } : undefined;
}

class SqliteScanSession implements ScanSession {
  readonly digests: DigestCache;
  private done = false;
  private tracked?: TrackedState;
  private history?: BaselineHistory;
  private inc?: { tailFrom: number; tail: Map<string, string> };

  constructor(
    readonly file: string,
    private readonly db: DatabaseSync,
    private readonly retention: Retention | false,
  ) {
    this.digests = new SqliteDigestCache(db);
  }

  engine(): { state: EngineState; history?: BaselineHistory } {
    const state = new TrackedState(this.db);
    const h = this.db.prepare("SELECT from_time, to_time FROM history WHERE id = 1").get();
    if (h) {
      this.history = { from: h.from_time as string, to: h.to_time as string };
      const rows = this.db.prepare("SELECT tuple, key, first FROM baselines ORDER BY tuple").iterate();
      let tuple = "";
      let store: Baseline | undefined;
      for (const r of rows) {
        if (r.tuple !== tuple || !store) {
          tuple = r.tuple as string;
          store = state.baseline(tuple);
        }
        store.set(r.key as number, r.first as string);
      }
    }
    // What this scan adds or makes earlier is what goes back (saveBaselines), not the whole baseline.
    state.trackBaselineChanges();
    this.tracked = state;
    return this.history ? { state, history: this.history } : { state };
  }

  /**
   * Baselines back into the store, after a complete scan that read Activity Log. Their span (what
   * learning counts from) grows when this scan's reaches it without a gap, and otherwise starts
   * again at this scan's. Keys are kept either way: a key seen before a gap is not new after it.
   */
  private saveBaselines(result: ScanResult): void {
    const state = this.tracked;
    const span = eventSpan(result);
    if (!state || !span || !result.complete) return;
    const h = this.history;
    const joins = h !== undefined && withHistory(span.from, h) === h.from;
    const next = joins ? { from: h.from, to: Date.parse(h.to) > Date.parse(span.to) ? h.to : span.to } : span;
    this.db.prepare("INSERT OR REPLACE INTO history (id, from_time, to_time) VALUES (1, ?, ?)").run(next.from, next.to);
    // The engine merged what was loaded with this scan (earliest time per key): the keys it
    // added or made earlier go back; the rest are in the store already.
    const put = this.db.prepare("INSERT OR REPLACE INTO baselines (tuple, key, first) VALUES (?, ?, ?)");
    for (const tuple of state.tuples)
      for (const [key, first] of state.baseline(tuple).entries(true)) put.run(tuple, key, first);
  }

  incremental(overlapMs: number, resume: boolean): Incremental {
    const marks = new Map<string, string>();
    const seen = new Set<string>();
    if (resume) {
      for (const r of this.db.prepare("SELECT source, scope, until FROM watermarks").all())
        marks.set(`${r.source}\u001f${r.scope}`, r.until as string);
      for (const r of this.db.prepare("SELECT id FROM overlap_events").all()) seen.add(r.id as string);
    }
    const inc = { tailFrom: Number.POSITIVE_INFINITY, tail: new Map<string, string>() };
    this.inc = inc;
    return {
      resume: (source, scope) => {
        const w = marks.get(`${source}\u001f${scope.toLowerCase()}`);
        const at = w === undefined ? Number.NaN : Date.parse(w);
        return Number.isNaN(at) ? undefined : { since: new Date(at - overlapMs), watermark: w as string };
      },
      seen: (id) => seen.has(id),
      read: (id, time) => {
        if (Date.parse(time) >= inc.tailFrom) inc.tail.set(id, time);
      },
      until: (end) => {
        inc.tailFrom = end.getTime() - overlapMs;
      },
    };
  }

  /**
   * Watermarks of the windowed scopes read in full (a partial or failed one keeps its old one and
   * is read again from it), and the events of this scan's overlap for the next scan to skip.
   */
  private saveIncremental(result: ScanResult): void {
    const put = this.db.prepare("INSERT OR REPLACE INTO watermarks (source, scope, until) VALUES (?, ?, ?)");
    for (const c of result.coverage)
      if (WINDOWED_SOURCES.has(c.source) && c.status === "complete" && c.to)
        put.run(c.source, storedText(redactText(c.scope)).toLowerCase(), c.to);
    const inc = this.inc;
    if (!inc || !Number.isFinite(inc.tailFrom)) return;
    // The overlap a later scan reads again, with a day's slack for a scope read from an older watermark.
    this.db
      .prepare("DELETE FROM overlap_events WHERE julianday(time) < julianday(?) - 1")
      .run(new Date(inc.tailFrom).toISOString());
    const keep = this.db.prepare("INSERT OR REPLACE INTO overlap_events (id, time) VALUES (?, ?)");
    for (const [id, time] of inc.tail) keep.run(storedText(id), time);
  }

  /**
   * The latest writes this scan learned (with their author: a write the pre-filter cleared and
   * nothing needed is not kept) and the correlation matches whose window may still be open.
   */
  private saveCarried(): void {
    const state = this.tracked;
    if (!state) return;
    const writers = state.writerStore;
    if (writers) {
      const put = this.db.prepare("INSERT OR REPLACE INTO writers (key, time, value) VALUES (?, ?, ?)");
      for (const key of writers.dirty) {
        const w = writers.get(key) as { time?: unknown; summary?: unknown; lean?: unknown } | undefined;
        if (!w?.summary || typeof w.time !== "string") continue;
        const { lean: _lean, ...kept } = w;
        put.run(key, w.time, JSON.stringify(redactDeep(kept)));
      }
    }
    const imports = state.importStore;
    if (imports) {
      const put = this.db.prepare("INSERT OR REPLACE INTO imports (key, time, value) VALUES (?, ?, ?)");
      for (const key of imports.dirty) {
        const i = imports.get(key) as { time?: unknown } | undefined;
        if (i && typeof i.time === "string") put.run(key, i.time, JSON.stringify(redactDeep(i)));
      }
    }
    // Rows are written once: what this scan matched goes in; what earlier scans stored stays
    // (it was redacted and serialised then) until it is older than the horizon.
    const old = this.db.prepare("SELECT rowid, time FROM correlation_events WHERE correlation = ?");
    const del = this.db.prepare("DELETE FROM correlation_events WHERE rowid = ?");
    const put = this.db.prepare(
      "INSERT OR REPLACE INTO correlation_events (correlation, ref, id, time, value) VALUES (?, ?, ?, ?, ?)",
    );
    for (const [id, buffer] of state.buffers) {
      const events = [...buffer.held, ...buffer.items()].filter(
        (ev) => ev.steps === undefined && ev.time !== undefined && ev.record.kind === "activity",
      );
      // A loop, not Math.max(...): a buffer holds up to 50,000 matches, past what spread arguments take.
      let newest = Number.NEGATIVE_INFINITY;
      for (const ev of events) {
        const t = Date.parse(ev.time as string);
        if (t > newest) newest = t;
      }
      for (const r of old.all(id)) {
        const t = Date.parse(r.time as string);
        if (!(t >= newest - CARRY_HORIZON_MS)) del.run(r.rowid as number);
      }
      for (const ev of events) {
        if (buffer.stored(ev) || !(Date.parse(ev.time as string) >= newest - CARRY_HORIZON_MS)) continue;
        const v: StoredCorrEvent = {
          ref: ev.ref,
          time: ev.time as string,
          record: ev.record,
          group: ev.group,
          ...(ev.counted ? { counted: ev.counted } : {}),
          ...(ev.novelty !== undefined ? { novelty: ev.novelty } : {}),
        };
        put.run(id, ev.ref, ev.record.id, ev.time as string, JSON.stringify(redactDeep(v)));
      }
    }
  }

  apply(result: ScanResult, read: ReadKinds): ScanResult {
    try {
      this.saveBaselines(result);
      this.saveIncremental(result);
      this.saveCarried();
      const applied = this.applyInTransaction(result, read);
      // In the scan's transaction: a scan killed before its commit prunes nothing either.
      const at = Date.parse(result.startedAt);
      if (this.retention)
        pruneStore(
          this.db,
          Number.isNaN(at) ? new Date() : new Date(at),
          this.retention.days * DAY_MS,
          this.retention.minScans,
        );
      return applied;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw stateError(this.file, e, "recording the scan");
    }
  }

  private applyInTransaction(result: ScanResult, read: ReadKinds): ScanResult {
    const db = this.db;
    const previous = db.prepare("SELECT seq, id FROM scans ORDER BY seq DESC LIMIT 1").get();
    const coverageOf = new Map<number, CoverageEntry[]>();
    const lastCoverage = (seq: number): CoverageEntry[] => {
      let c = coverageOf.get(seq);
      if (!c) {
        const row = db.prepare("SELECT coverage FROM scans WHERE seq = ?").get(seq);
        c = row ? (JSON.parse(row.coverage as string) as CoverageEntry[]) : [];
        coverageOf.set(seq, c);
      }
      return c;
    };
    const insertScan = db.prepare(
      "INSERT INTO scans (id, started_at, finished_at, complete, coverage) VALUES (?, ?, ?, ?, ?) RETURNING seq",
    );
    const seq = Number(
      insertScan.get(
        storedText(result.id),
        result.startedAt,
        result.finishedAt,
        result.complete ? 1 : 0,
        JSON.stringify(redactDeep(result.coverage)),
      )?.seq,
    );
    const known = new Map<string, StoredFinding>();
    for (const r of db
      .prepare("SELECT id, status, first_seen, first_scan, last_seen, last_scan, absence FROM findings")
      .all())
      known.set(r.id as string, r as unknown as StoredFinding);

    const upsert = db.prepare(
      `INSERT INTO findings (id, rule_id, title, severity, subscription_id, resource_id, principal, absence, status,
                             first_seen, last_seen, first_scan, last_scan, resolved_at, resolved_scan)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
       ON CONFLICT (id) DO UPDATE SET rule_id = excluded.rule_id, title = excluded.title, severity = excluded.severity,
         subscription_id = excluded.subscription_id, resource_id = excluded.resource_id, principal = excluded.principal,
         absence = excluded.absence, status = excluded.status, last_seen = excluded.last_seen,
         last_scan = excluded.last_scan, resolved_at = NULL, resolved_scan = NULL`,
    );
    const mark = db.prepare("INSERT OR REPLACE INTO scan_findings (scan, finding, status) VALUES (?, ?, ?)");
    let fresh = 0;
    const seen = new Set<string>();
    const findings: Finding[] = result.findings.map((f) => {
      seen.add(f.id);
      const before = known.get(f.id);
      // A resolved finding that comes back is new again: it was not there last time.
      const presentBefore = before !== undefined && before.status !== "resolved";
      // Suppressions run before this and their verdict is kept (and stored) as it is.
      const suppressed = f.status === "suppressed";
      const status: Finding["status"] = suppressed ? "suppressed" : presentBefore ? "open" : "new";
      if (!presentBefore) fresh++;
      const firstSeen = before?.first_seen ?? result.startedAt;
      upsert.run(
        f.id,
        storedText(f.ruleId),
        storedText(f.title),
        f.severity,
        f.subscriptionId === undefined ? null : storedText(f.subscriptionId),
        storedText(f.resourceId),
        JSON.stringify(storedPrincipal(f.principal)),
        JSON.stringify(absenceFacts(f)),
        suppressed ? "suppressed" : "open",
        firstSeen,
        result.startedAt,
        before?.first_scan ?? seq,
        seq,
      );
      mark.run(seq, f.id, status);
      return { ...f, status, firstSeen };
    });

    const resolve = db.prepare(
      "UPDATE findings SET status = 'resolved', resolved_at = ?, resolved_scan = ? WHERE id = ?",
    );
    const resolved: ResolvedFinding[] = [];
    // Stored coverage is redacted (an archive scope may carry a SAS): compare like with like.
    const comparable: ScanResult = { ...result, coverage: redactDeep(result.coverage) as CoverageEntry[] };
    for (const before of known.values()) {
      if (before.status === "resolved" || seen.has(before.id)) continue;
      if (!canResolve(JSON.parse(before.absence), lastCoverage(before.last_scan), comparable, read)) continue;
      resolve.run(result.startedAt, seq, before.id);
      mark.run(seq, before.id, "resolved");
      const r = db.prepare("SELECT * FROM findings WHERE id = ?").get(before.id) as Row;
      const item: ResolvedFinding = {
        id: before.id,
        ruleId: r.rule_id as string,
        title: r.title as string,
        severity: r.severity as Severity,
        resourceId: r.resource_id as string,
        principal: JSON.parse(r.principal as string) as Principal,
        firstSeen: before.first_seen,
        lastSeen: before.last_seen,
      };
      if (typeof r.subscription_id === "string") item.subscriptionId = r.subscription_id;
      resolved.push(item);
    }
    resolved.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    db.prepare("UPDATE scans SET findings = ?, new = ?, resolved = ? WHERE seq = ?").run(
      findings.length,
      fresh,
      resolved.length,
      seq,
    );
    return {
      ...result,
      findings,
      resolved,
      ...(previous ? { previousScanId: previous.id as string } : {}),
    };
  }

  enqueue(exporter: string, items: readonly OutboxItem[]): void {
    try {
      const put = this.db.prepare(
        "INSERT OR IGNORE INTO outbox (exporter, finding_id, scan_id, payload, enqueued_at) VALUES (?, ?, ?, ?, ?)",
      );
      const at = new Date().toISOString();
      for (const item of items) put.run(exporter, item.findingId, item.scanId, JSON.stringify(item.payload), at);
    } catch (e) {
      throw stateError(this.file, e, "recording the scan");
    }
  }

  commit(): void {
    if (this.done) return;
    this.done = true;
    try {
      this.db.exec("COMMIT");
    } catch (e) {
      this.rollbackQuietly();
      throw stateError(this.file, e, "recording the scan");
    } finally {
      this.db.close();
    }
  }

  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.rollbackQuietly();
    this.db.close();
  }

  private rollbackQuietly(): void {
    try {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
    } catch {
      // Closing the connection rolls back whatever is left.
    }
  }
}

/** Makes sure the file (or, when it does not exist yet, its directory) can be written. */
function checkWritable(file: string): void {
  if (existsSync(file)) {
    if (statSync(file).isDirectory())
      throw new UsageError(`state file ${file} is a directory; pass a file path to --state`);
    accessSync(file, constants.R_OK | constants.W_OK);
    // WAL keeps -wal and -shm files beside the state file.
    accessSync(dirname(file), constants.W_OK);
    return;
  }
  mkdirSync(dirname(file), { recursive: true });
  accessSync(dirname(file), constants.W_OK);
}

/**
 * Opens the state, takes the scan lock (the write transaction) and brings the schema up to date
 * inside it. Throws a UsageError (exit 3) naming the file and the fix for anything it cannot use.
 */
function openLocked(file: string, what: string): DatabaseSync {
  try {
    checkWritable(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw stateError(file, e, what);
  }
  const db = openDatabase(file, false, what);
  try {
    const kind = checkIdentity(file, identify(db));
    // A damaged file is refused before the scan reads anything, not after.
    if (kind === "ours") checkIntact(file, db);
    // A new file becomes WAL before its first table; journal_mode cannot change inside a transaction.
    if (kind === "fresh") db.exec("PRAGMA journal_mode = WAL");
    db.exec("BEGIN IMMEDIATE");
    // Read again under the lock: another scan may have created or migrated the file meanwhile.
    const id = identify(db);
    checkIdentity(file, id);
    for (let v = id.version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    if (id.version < SCHEMA_VERSION) {
      db.exec(`PRAGMA application_id = ${APPLICATION_ID | 0}`);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    }
    return db;
  } catch (e) {
    try {
      if (db.isTransaction) db.exec("ROLLBACK");
    } catch {
      // closing rolls back
    }
    db.close();
    if (e instanceof UsageError) throw e;
    throw stateError(file, e, what);
  }
}

/**
 * Opens the state for a scan: checks what the file is, takes the scan lock (the write
 * transaction) and brings the schema up to date inside it. Throws a UsageError (exit 3) naming
 * the file and the fix for anything it cannot use.
 */
export function openScanSession(file: string, retention: Retention | false = RETENTION): ScanSession {
  return new SqliteScanSession(file, openLocked(file, "a scan with state"), retention);
}

/**
 * What the store keeps (docs/cli.md, "Retention"): scans and their per-scan finding rows for
 * `days`, and always the last `minScans` scans (the latest included) so that `findings diff`
 * has something to compare; resolved findings for `days` after they were resolved; digest-cache
 * entries for `days` after a scan last used them; the latest write per resource (attribution)
 * for `days` after that write; a scope's watermark for `days` after its last complete read (it
 * then reads its --since window again). Open and suppressed findings are never
 * dropped, nor the scans they name (first seen, last seen: the last one's coverage decides
 * whether they can be resolved). First-seen baselines are not pruned: dropping a key would make
 * it new again (a false finding); they are bounded by key count instead.
 */
export const RETENTION: Retention = { days: 90, minScans: 10 };

export interface Retention {
  days: number;
  minScans: number;
}

const DAY_MS = 86_400_000;

/** What a prune removed (or, dry, would remove). */
export interface PruneCounts {
  scans: number;
  findingRows: number;
  resolvedFindings: number;
  digests: number;
  /** Latest writes per resource and image imports (attribution); watermarks of scopes not read since. */
  writers: number;
  watermarks: number;
}

/** Prunes inside the caller's transaction: everything older than `now - olderThanMs`. */
export function pruneStore(
  db: DatabaseSync,
  now: Date,
  olderThanMs: number = RETENTION.days * DAY_MS,
  minScans: number = RETENTION.minScans,
): PruneCounts {
  const cutoff = new Date(now.getTime() - olderThanMs).toISOString();
  // Compared as instants (julianday): a time may be written with or without milliseconds.
  const old = (column: string): string => `julianday(${column}) < julianday(:cutoff)`;
  db.exec("CREATE TEMP TABLE IF NOT EXISTS prune_findings (id TEXT PRIMARY KEY) WITHOUT ROWID");
  db.exec("CREATE TEMP TABLE IF NOT EXISTS prune_scans (seq INTEGER PRIMARY KEY)");
  db.exec("DELETE FROM prune_findings; DELETE FROM prune_scans");
  db.prepare(
    `INSERT INTO prune_findings SELECT id FROM findings WHERE status = 'resolved' AND ${old("resolved_at")}`,
  ).run({ cutoff });
  let findingRows = Number(
    db.prepare("DELETE FROM scan_findings WHERE finding IN (SELECT id FROM prune_findings)").run().changes,
  );
  const resolvedFindings = Number(
    db.prepare("DELETE FROM findings WHERE id IN (SELECT id FROM prune_findings)").run().changes,
  );
  db.prepare(
    `INSERT INTO prune_scans SELECT seq FROM scans WHERE ${old("started_at")}
       AND seq NOT IN (SELECT seq FROM scans ORDER BY seq DESC LIMIT :keep)
       AND seq NOT IN (SELECT first_scan FROM findings UNION SELECT last_scan FROM findings
                       UNION SELECT resolved_scan FROM findings WHERE resolved_scan IS NOT NULL)`,
  ).run({ cutoff, keep: Math.max(1, Math.floor(minScans)) });
  findingRows += Number(
    db.prepare("DELETE FROM scan_findings WHERE scan IN (SELECT seq FROM prune_scans)").run().changes,
  );
  const scans = Number(db.prepare("DELETE FROM scans WHERE seq IN (SELECT seq FROM prune_scans)").run().changes);
  const digests = Number(
    db.prepare(`DELETE FROM digests WHERE last_used IS NULL OR ${old("last_used")}`).run({ cutoff }).changes,
  );
  const writers =
    Number(db.prepare(`DELETE FROM writers WHERE ${old("time")}`).run({ cutoff }).changes) +
    Number(db.prepare(`DELETE FROM imports WHERE ${old("time")}`).run({ cutoff }).changes);
  const watermarks = Number(db.prepare(`DELETE FROM watermarks WHERE ${old("until")}`).run({ cutoff }).changes);
  db.exec("DELETE FROM prune_findings; DELETE FROM prune_scans");
  return { scans, findingRows, resolvedFindings, digests, writers, watermarks };
}

/** Bytes the state takes on disk: the file and its WAL (committed pages not yet checkpointed). */
export function stateSize(file: string): number {
  const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);
  return size(file) + size(`${file}-wal`);
}

/** `state prune`: the scan lock held, a prune in its transaction, then commit and compact. */
export interface PruneSession {
  readonly file: string;
  prune(olderThanMs: number, now?: Date): PruneCounts;
  /** Drops what `prune` did (a dry run) and releases the lock. */
  abandon(): void;
  /** Commits the prune, then VACUUMs and checkpoints so the file shrinks; releases the lock. */
  commit(): void;
}

export function openPruneSession(file: string): PruneSession {
  if (!existsSync(file))
    throw new UsageError(`no state file at ${file}: run a scan with state first (or pass --state <file>)`);
  const db = openLocked(file, "pruning the state");
  let done = false;
  const finish = (): void => {
    done = true;
    db.close();
  };
  return {
    file,
    prune(olderThanMs, now = new Date()) {
      try {
        return pruneStore(db, now, olderThanMs);
      } catch (e) {
        throw stateError(file, e, "pruning the state");
      }
    },
    abandon() {
      if (done) return;
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } catch {
        // closing rolls back
      }
      finish();
    },
    commit() {
      if (done) return;
      try {
        db.exec("COMMIT");
        // VACUUM needs the write lock again: a scan that took it in between makes it wait
        // LOCK_WAIT_MS and then fail with the in-use sentence (the prune itself is committed).
        db.exec("VACUUM");
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch (e) {
        try {
          if (db.isTransaction) db.exec("ROLLBACK");
        } catch {
          // closing rolls back
        }
        throw stateError(file, e, "pruning the state");
      } finally {
        finish();
      }
    },
  };
}

/**
 * The outbox of an existing state file, for flushing it. The schema is brought up to date under
 * the scan lock, which is then released at once: a flush holds the lock only to settle a page.
 */
export function openOutbox(file: string): Outbox {
  if (!existsSync(file))
    throw new UsageError(
      `no state file at ${file}: run a scan with state and --sentinel-* settings first (or pass --state <file>)`,
    );
  const db = openLocked(file, "flushing the outbox");
  try {
    db.exec("COMMIT");
  } catch (e) {
    db.close();
    throw stateError(file, e, "flushing the outbox");
  }
  const guard = <T>(what: () => T): T => {
    try {
      return what();
    } catch (e) {
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } catch {
        // closing rolls back
      }
      throw stateError(file, e, "flushing the outbox");
    }
  };
  return {
    file,
    page(exporter, afterSeq, limit, maxBytes) {
      return guard(() => {
        const out: OutboxEntry[] = [];
        let bytes = 0;
        for (const r of db
          .prepare(
            "SELECT seq, finding_id, scan_id, payload, attempts FROM outbox WHERE exporter = ? AND seq > ? ORDER BY seq LIMIT ?",
          )
          .iterate(exporter, afterSeq, limit)) {
          const payload = r.payload as string;
          if (out.length > 0 && bytes + payload.length > maxBytes) break;
          bytes += payload.length;
          out.push({
            seq: Number(r.seq),
            findingId: r.finding_id as string,
            scanId: r.scan_id as string,
            payload: JSON.parse(payload),
            attempts: Number(r.attempts),
          });
        }
        return out;
      });
    },
    settle(exporter, accepted, failed) {
      guard(() => {
        db.exec("BEGIN IMMEDIATE");
        const del = db.prepare("DELETE FROM outbox WHERE exporter = ? AND seq = ?");
        for (const seq of accepted) del.run(exporter, seq);
        const at = new Date().toISOString();
        const keep = db.prepare(
          "UPDATE outbox SET attempts = attempts + 1, last_attempt = ?, last_error = ? WHERE exporter = ? AND seq = ?",
        );
        for (const f of failed) keep.run(at, cap(f.reason, MAX_TEXT), exporter, f.seq);
        db.exec("COMMIT");
      });
    },
    waiting(exporter) {
      return guard(() => {
        const n = db.prepare("SELECT count(*) AS n FROM outbox WHERE exporter = ?").get(exporter);
        const last = db
          .prepare(
            "SELECT last_error FROM outbox WHERE exporter = ? AND last_error IS NOT NULL ORDER BY last_attempt DESC LIMIT 1",
          )
          .get(exporter);
        return {
          rows: Number(n?.n ?? 0),
          ...(typeof last?.last_error === "string" ? { lastError: last.last_error } : {}),
        };
      });
    },
    close() {
      db.close();
    },
  };
}

class SqliteStateReader implements StateReader {
  private readonly scanIds = new Map<number, string>();
  private readonly latest: number | undefined;

  constructor(
    readonly file: string,
    private readonly db: DatabaseSync,
  ) {
    for (const r of db.prepare("SELECT seq, id FROM scans ORDER BY seq").all())
      this.scanIds.set(r.seq as number, r.id as string);
    this.latest = [...this.scanIds.keys()].at(-1);
  }

  scans(): ScanRow[] {
    return this.db.prepare("SELECT * FROM scans ORDER BY seq").all().map(scanRow);
  }

  findings(status?: ListStatus): FindingRow[] {
    const rows = this.db
      .prepare("SELECT * FROM findings ORDER BY id")
      .all()
      .map((r) => findingRow(r, this.scanIds, this.latest));
    return status === undefined ? rows : rows.filter((r) => r.status === status);
  }

  diff(since?: string): ScanDiff {
    const latest = this.latest;
    if (latest === undefined) throw new UsageError(`state file ${this.file} holds no scan yet`);
    let from: number | undefined;
    if (since !== undefined) {
      from = [...this.scanIds].find(([, id]) => id === since)?.[0];
      if (from === undefined)
        throw new UsageError(`no scan '${since}' in state file ${this.file} (findings diff lists scan ids in JSON)`);
    } else {
      from = [...this.scanIds.keys()].filter((s) => s < latest).at(-1);
      if (from === undefined)
        throw new UsageError(`state file ${this.file} holds one scan; findings diff needs two (or --since <scan id>)`);
    }
    const present = (seq: number): Set<string> =>
      new Set(
        this.db
          .prepare("SELECT finding FROM scan_findings WHERE scan = ? AND status != 'resolved' ORDER BY finding")
          .all(seq)
          .map((r) => r.finding as string),
      );
    const before = present(from);
    const after = present(latest);
    const rows = new Map(this.findings().map((r) => [r.id, r]));
    const pick = (ids: Iterable<string>): FindingRow[] =>
      [...ids].map((id) => rows.get(id)).filter((r): r is FindingRow => r !== undefined);
    const gone = pick([...before].filter((id) => !after.has(id)));
    const scanAt = (seq: number): ScanRow =>
      scanRow(this.db.prepare("SELECT * FROM scans WHERE seq = ?").get(seq) as Row);
    return {
      from: scanAt(from),
      to: scanAt(latest),
      added: pick([...after].filter((id) => !before.has(id))),
      resolved: gone.filter((r) => r.status === "resolved"),
      notSeen: gone.filter((r) => r.status !== "resolved"),
      unchanged: [...after].filter((id) => before.has(id)).length,
    };
  }

  close(): void {
    this.db.close();
  }
}

/** Opens the state to read it (`findings list`, `findings diff`); never creates or changes it. */
export function openStateReader(file: string): StateReader {
  if (!existsSync(file))
    throw new UsageError(`no state file at ${file}: run a scan with state first (or pass --state <file>)`);
  const db = openDatabase(file, true, "reading the state");
  try {
    const kind = checkIdentity(file, identify(db));
    if (kind === "fresh") throw new UsageError(`state file ${file} holds no scan yet`);
    checkIntact(file, db);
    return new SqliteStateReader(file, db);
  } catch (e) {
    db.close();
    if (e instanceof UsageError) throw e;
    throw stateError(file, e, "reading the state");
  }
}
