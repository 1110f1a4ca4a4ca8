/**
 * Files collector: files or directories of JSON, JSON Lines and their .gz forms, in any record
 * shape `classify` knows, including the snapshot layout in docs/snapshot.md. `plan` resolves
 * every input (usage errors before anything is read); `collect` streams records out one at a
 * time, and each input becomes one coverage entry in the scan's tally.
 */
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, join, relative } from "node:path";
import { classify, SiteJoiner } from "../../azure/normalize/index.js";
import { isObj, str } from "../../azure/normalize/util.js";
import type { SourceKind } from "../../model/finding.js";
import type { AuditRecord, CollectedItem, LineRef } from "../../model/records.js";
import { UsageError } from "../../util/errors.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions, TimeWindow } from "../types.js";
import { detectMode, NotJsonError, readLines, streamJsonFile } from "./json-stream.js";
import { takeLines } from "./lines.js";
import { readInParallel } from "./parallel.js";

const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;
const SNAPSHOT_META = "snapshot.json";

/** One input path, resolved: the data files it holds, in reading order. */
export interface InputPlan {
  path: string;
  files: string[];
  ignored: string[];
  /** Directories that could not be listed (EACCES, …), with why: failed parts, not a failed scan. */
  unreadable?: { dir: string; error: string }[];
  /** snapshot.json of a snapshot directory, when present. */
  meta?: SnapshotMeta;
}

export interface SnapshotMeta {
  name?: string;
  window?: TimeWindow;
  subscriptions?: { subscriptionId: string; displayName?: string }[];
}

/** The files collector's plan: one scope per input path, with its resolved files. */
export interface FilesPlan extends CollectionPlan {
  source: "files";
  inputs: InputPlan[];
}

function isFilesPlan(plan: CollectionPlan): plan is FilesPlan {
  return plan.source === "files" && Array.isArray((plan as Partial<FilesPlan>).inputs);
}

async function walk(
  dir: string,
  files: string[],
  ignored: string[],
  unreadable: { dir: string; error: string }[],
): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    // What is below is unknown, so the scope is partial, and the rest of the tree is still read.
    unreadable.push({ dir, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, files, ignored, unreadable);
    else if (e.isFile() && DATA_FILE.test(e.name)) files.push(p);
    else ignored.push(p);
  }
}

async function readMeta(path: string): Promise<SnapshotMeta> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch {
    throw new UsageError(`snapshot metadata is not valid JSON: ${path}`);
  }
  if (!isObj(parsed)) throw new UsageError(`snapshot metadata must be a JSON object: ${path}`);
  const meta: SnapshotMeta = {};
  if (typeof parsed.name === "string") meta.name = parsed.name;
  if (isObj(parsed.window)) meta.window = { from: str(parsed.window.from), to: str(parsed.window.to) };
  if (Array.isArray(parsed.subscriptions)) {
    meta.subscriptions = parsed.subscriptions.filter(isObj).flatMap((s) => {
      const id = str(s.subscriptionId);
      return id ? [{ subscriptionId: id, displayName: str(s.displayName) }] : [];
    });
  }
  return meta;
}

async function planInput(path: string): Promise<InputPlan> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    throw new UsageError(`input path does not exist or cannot be read: ${path}`);
  }
  if (st.isFile()) return { path, files: [path], ignored: [] };
  if (!st.isDirectory()) throw new UsageError(`input is neither a file nor a directory: ${path}`);
  const files: string[] = [];
  const ignored: string[] = [];
  const unreadable: { dir: string; error: string }[] = [];
  await walk(path, files, ignored, unreadable);
  const metaPath = join(path, SNAPSHOT_META);
  let meta: SnapshotMeta | undefined;
  if (files.includes(metaPath)) {
    files.splice(files.indexOf(metaPath), 1);
    meta = await readMeta(metaPath);
  }
  if (files.length === 0 && unreadable.length === 0) {
    throw new UsageError(`input directory has no .json, .jsonl or .gz files: ${path}`);
  }
  // Layer blobs of the snapshot layout (images/<registry>/blobs/sha256/<digest>) are registry
  // content the emulator serves, not records; they are not worth a note.
  const quiet = (f: string) =>
    /(^|\/)(README\.md|\.gitkeep)$/i.test(f) || /(^|\/)images\/[^/]+\/blobs\/sha256\/[0-9a-f]{64}$/.test(f);
  return {
    path,
    files,
    ignored: ignored.filter((f) => !quiet(f)),
    meta,
    ...(unreadable.length > 0 ? { unreadable } : {}),
  };
}

/** The earliest declared start and the latest declared end over all snapshot metadata. */
function declaredWindow(inputs: InputPlan[]): TimeWindow | undefined {
  const froms = inputs.map((p) => p.meta?.window?.from).filter((x): x is string => !!x);
  const tos = inputs.map((p) => p.meta?.window?.to).filter((x): x is string => !!x);
  if (froms.length === 0 && tos.length === 0) return undefined;
  const w: TimeWindow = {};
  if (froms.length > 0) w.from = froms.sort()[0];
  if (tos.length > 0) w.to = tos.sort()[tos.length - 1];
  return w;
}

/** A file's name in coverage: relative to its input, or its base name when it is the input. */
function relativeTo(input: string, file: string): string {
  const r = relative(input, file);
  return r === "" ? basename(file) : r;
}

/** Throws the signal's reason (an AbortError unless the caller gave one) once it is aborted. */
function checkAbort(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

export interface FilesOptions {
  /** Worker threads for a large JSON Lines file (default: the machine's cores, at most 4; 1 = none). */
  workers?: number;
  /** Plain JSON Lines files at least this large are split across the workers (default 32 MiB). */
  parallelBytes?: number;
}

/** The default number of workers: every core, up to four (more seldom pays on one file). */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export class FilesCollector implements Collector {
  readonly source: SourceKind = "files";

  constructor(
    private readonly paths: string[],
    private readonly options: FilesOptions = {},
  ) {}

  /** Resolves every input up front so that usage mistakes fail before any reading (exit 3). */
  async plan(options: PlanOptions = {}): Promise<FilesPlan> {
    if (this.paths.length === 0) {
      throw new UsageError("no input given: pass --input <file or directory> or --demo");
    }
    const inputs: InputPlan[] = [];
    for (const path of this.paths) {
      checkAbort(options.abortSignal);
      inputs.push(await planInput(path));
    }
    const plan: FilesPlan = { source: "files", scopes: inputs.map((p) => p.path), inputs };
    const window = declaredWindow(inputs);
    if (window) plan.window = window;
    return plan;
  }

  /** Reads every planned input in order; each is one scope in `tally`. */
  async *collect(
    plan: CollectionPlan,
    { tally, abortSignal, filter }: CollectOptions,
  ): AsyncGenerator<readonly CollectedItem[]> {
    if (!isFilesPlan(plan)) throw new TypeError("FilesCollector.collect needs the plan its own plan() returned");
    // One join for every input: a site and its app settings may come from different inputs.
    const sites = new SiteJoiner();
    const scopeOf = new Map<string, { scope: ScopeTally; input: InputPlan }>();
    for (const input of plan.inputs) {
      checkAbort(abortSignal);
      const scope = tally.open("files", input.path, input.files.length + (input.unreadable?.length ?? 0));
      scope.declareWindow(input.meta?.window);
      for (const u of input.unreadable ?? [])
        scope.partFailed({ file: `${relativeTo(input.path, u.dir)}/` }, `directory could not be read (${u.error})`);
      for (const file of input.files) {
        scopeOf.set(file, { scope, input });
        const rel = relativeTo(input.path, file);
        try {
          const gzip = /\.gz$/i.test(file);
          const workers = this.options.workers ?? defaultWorkers();
          // Plain files only (a gzip stream cannot be split), and only with two workers or more.
          const size = gzip || workers < 2 ? -1 : (await stat(file)).size;
          if (
            size >= 0 &&
            size >= (this.options.parallelBytes ?? 32 * 1024 * 1024) &&
            (await detectMode(file)) === "lines"
          ) {
            const seen: { observed: number; from?: string; to?: string } = { observed: 0 };
            for await (const out of readInParallel(file, size, workers, filter, abortSignal)) {
              checkAbort(abortSignal);
              if ("share" in out) {
                // A worker's baselines and writes, for the stages to merge, with what it observed.
                yield [{ kind: "observations", ...seen, ...out.share }];
                seen.observed = 0;
                delete seen.from;
                delete seen.to;
                continue;
              }
              const { items, observed, from, to } = out.batch;
              scope.recordMany(observed, from, to);
              seen.observed += observed;
              if (from !== undefined && (seen.from === undefined || from < seen.from)) seen.from = from;
              if (to !== undefined && (seen.to === undefined || to > seen.to)) seen.to = to;
              const batch: CollectedItem[] = [];
              for (const it of items) {
                if (it.t === "problem") scope.unreadableRecord({ file: rel, line: it.line }, it.error);
                else if (it.t === "observation") {
                  scope.record(it.o.time);
                  const at = { file, line: it.line, offset: it.offset, length: it.length, gzip };
                  batch.push({ kind: "observation", ...it.o, at });
                } else if (it.t === "pending") {
                  scope.heldForJoin();
                  sites.add(it.pending, it.key, it.value, { shape: it.shape, location: file, index: it.line });
                } else {
                  scope.record(it.record.kind === "activity" ? it.record.time : undefined);
                  batch.push(it.record);
                }
              }
              if (batch.length > 0) yield batch;
            }
            continue;
          }
          for await (const items of streamJsonFile(file, { filter })) {
            checkAbort(abortSignal);
            const batch = takeLines(items, {
              shown: rel,
              location: file,
              gzip,
              scope,
              pending: (c, line) => {
                scope.heldForJoin();
                sites.add(c.pending, c.key, c.value, { shape: c.shape, location: file, index: line });
              },
            });
            if (batch.length > 0) yield batch;
          }
        } catch (e) {
          // An abort is not a broken file: it ends the scan.
          checkAbort(abortSignal);
          if (e instanceof NotJsonError) scope.partFailed({ file: rel }, e.message);
          else scope.partFailed({ file: rel }, `could not be read (${(e as Error).message})`);
        }
      }
      if (input.ignored.length > 0) {
        scope.note(
          `${input.ignored.length} non-JSON file(s) ignored (e.g. ${relativeTo(input.path, input.ignored[0] as string)})`,
        );
      }
    }
    for (const orphan of sites.orphanSettings()) {
      const at = scopeOf.get(orphan.origin.location);
      at?.scope.unreadableRecord(
        { file: relativeTo(at.input.path, at.input.path) },
        `app settings for ${orphan.key} have no matching site record`,
      );
    }
    checkAbort(abortSignal);
    const joined = [...sites.drain()];
    for (const r of joined) scopeOf.get(r.origin.location)?.scope.record(undefined);
    if (joined.length > 0) yield joined;
  }

  async readBack(refs: readonly LineRef[]): Promise<AuditRecord[]> {
    const byFile = new Map<string, Set<number>>();
    for (const r of refs) {
      const set = byFile.get(r.file) ?? new Set();
      set.add(r.line);
      byFile.set(r.file, set);
    }
    const out: AuditRecord[] = [];
    for (const [file, lines] of byFile) {
      for (const [line, text] of await readLines(file, lines)) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          continue; // It was read once as an event; a file changed under the scan is not ours to fix here.
        }
        const c = classify(value, { location: file, index: line });
        if ("records" in c) out.push(...c.records);
      }
    }
    return out;
  }
}
