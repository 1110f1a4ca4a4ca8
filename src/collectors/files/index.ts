/**
 * Files collector: files or directories of JSON, JSON Lines and their .gz forms, in any record
 * shape `classify` knows, including the snapshot layout in docs/snapshot.md. `plan` resolves
 * every input (usage errors before anything is read); `collect` streams records out one at a
 * time, and each input becomes one coverage entry in the scan's tally.
 */
import { createReadStream, createWriteStream, type Dirent, mkdtempSync, rmSync } from "node:fs";
import { open, readdir, readFile, realpath, rename, stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { classify, SiteJoiner } from "../../azure/normalize/index.js";
import { isObj, str } from "../../azure/normalize/util.js";
import { encodeGlob, globMatch } from "../../matcher/glob.js";
import type { SourceKind } from "../../model/finding.js";
import { type AuditRecord, BASELINE_APPLIED, type CollectedItem, type LineRef } from "../../model/records.js";
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
  /**
   * Files in a directory that are not read: not JSON (by their first bytes), a broken link; and
   * directories that could not be listed (EACCES, …: `dir`), failed parts, not a failed scan.
   */
  notRead: { file: string; why: string; dir?: true }[];
  /** snapshot.json of a snapshot directory, when present (the windows of all found, merged). */
  meta?: SnapshotMeta;
  /** How coverage names a file that is a copy (stdin, a transcoded file), by the copy's path. */
  shownAs?: Record<string, string>;
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

/** Registry content of the snapshot layout and repository furniture: never records, never worth a note. */
const QUIET = (f: string) => /(^|\/)(README\.md|\.gitkeep)$/i.test(f) || /(^|\/)blobs\/sha256\/[0-9a-f]{64}$/.test(f);

/** What the first bytes of a file say: JSON (or gzip, or UTF-16) is read whatever its name. */
async function looksReadable(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(512);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    return startsLikeJson(b.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export function startsLikeJson(b: Buffer): boolean {
  if (b[0] === 0x1f && b[1] === 0x8b) return true; // gzip
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) return true; // UTF-16 BOM
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && (b[i] === 32 || b[i] === 9 || b[i] === 10 || b[i] === 13 || b[i] === 0)) i++;
  return b[i] === 123 || b[i] === 91;
}

interface Walk {
  root: string;
  files: string[];
  notRead: { file: string; why: string; dir?: true }[];
  metas: string[];
  exclude: (rel: string) => boolean;
  /** Real paths of directories walked, so a symbolic link loop ends. */
  seen: Set<string>;
}

async function walk(dir: string, w: Walk): Promise<void> {
  let entries: Dirent[];
  try {
    const real = await realpath(dir);
    if (w.seen.has(real)) return;
    w.seen.add(real);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    // What is below is unknown, so the input is partial, and the rest of the tree is still read.
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    w.notRead.push({ file: dir, why: `directory could not be read (${code})`, dir: true });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    const rel = relative(w.root, p).split(sep).join("/");
    if (w.exclude(rel)) continue;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = await stat(p);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        w.notRead.push({ file: p, why: "is a broken symbolic link" });
        continue;
      }
    }
    if (isDir) await walk(p, w);
    else if (!isFile) continue;
    else if (e.name === SNAPSHOT_META) w.metas.push(p);
    else if (DATA_FILE.test(e.name)) w.files.push(p);
    else if (QUIET(rel)) continue;
    else if (await looksReadable(p).catch(() => false)) w.files.push(p);
    else
      w.notRead.push({
        file: p,
        why: "was not read: not JSON or JSON Lines by its first bytes (pass --exclude to skip it on purpose)",
      });
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

/** Snapshot metadata found side by side or nested: one window spanning them all. */
function mergeMeta(metas: SnapshotMeta[]): SnapshotMeta | undefined {
  if (metas.length === 0) return undefined;
  if (metas.length === 1) return metas[0];
  const window = declaredWindowOf(metas);
  const out: SnapshotMeta = {
    name:
      metas
        .map((m) => m.name)
        .filter(Boolean)
        .join(", ") || undefined,
  };
  if (window) out.window = window;
  out.subscriptions = metas.flatMap((m) => m.subscriptions ?? []);
  return out;
}

/*
 * Standard input and other streams (`/dev/stdin` on a pipe, process substitution's /dev/fd/N) are
 * copied to a file first: a file is read more than once (its mode, its records, lines read back).
 */

let spoolDir: string | undefined;
/** A temporary directory for copies, removed when the process ends. */
function spool(): string {
  if (!spoolDir) {
    const dir = mkdtempSync(join(tmpdir(), "azure-exec-audit-input-"));
    spoolDir = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return spoolDir;
}

async function copyStream(from: Readable, name: string): Promise<string> {
  const tmp = join(spool(), `${Date.now()}-${Math.random().toString(36).slice(2)}-${name}`);
  await pipeline(from, createWriteStream(tmp));
  // The name says how to read it: gzip by its magic bytes.
  const head = Buffer.alloc(2);
  const fh = await open(tmp, "r");
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    await rename(tmp, `${tmp}.gz`);
    return `${tmp}.gz`;
  }
  return tmp;
}

/**
 * UTF-16 (what Windows PowerShell 5.1 `Out-File` and `>` write, with a byte-order mark) as a
 * UTF-8 copy; undefined when the file is not UTF-16.
 */
async function utf8CopyOf(path: string): Promise<string | undefined> {
  if (/\.gz$/i.test(path)) return undefined;
  const fh = await open(path, "r");
  const head = Buffer.alloc(2);
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const le = head[0] === 0xff && head[1] === 0xfe;
  const be = head[0] === 0xfe && head[1] === 0xff;
  if (!le && !be) return undefined;
  const decoder = new TextDecoder(le ? "utf-16le" : "utf-16be");
  const tmp = join(spool(), `${Date.now()}-${basename(path)}.utf8`);
  async function* transcode() {
    for await (const chunk of createReadStream(path)) yield decoder.decode(chunk as Buffer, { stream: true });
    yield decoder.decode();
  }
  await pipeline(Readable.from(transcode()), createWriteStream(tmp));
  return tmp;
}

async function planInput(path: string, exclude: (rel: string) => boolean): Promise<InputPlan> {
  let st: Awaited<ReturnType<typeof stat>>;
  if (path === "-") {
    if (process.stdin.isTTY)
      throw new UsageError("--input - reads standard input, but it is a terminal: pipe the records in");
    const copy = await copyStream(process.stdin, "stdin.json");
    return { path: "stdin", files: [copy], notRead: [], shownAs: { [copy]: "stdin" } };
  }
  try {
    st = await stat(path);
  } catch {
    throw new UsageError(`input path does not exist or cannot be read: ${path}`);
  }
  if (st.isFIFO() || st.isSocket()) {
    const copy = await copyStream(createReadStream(path), "stream.json");
    return { path, files: [copy], notRead: [], shownAs: { [copy]: basename(path) } };
  }
  if (st.isFile()) return { path, files: [path], notRead: [] };
  if (!st.isDirectory()) throw new UsageError(`input is neither a file nor a directory: ${path}`);
  const w: Walk = { root: path, files: [], notRead: [], metas: [], exclude, seen: new Set() };
  await walk(path, w);
  const meta = mergeMeta(await Promise.all(w.metas.map(readMeta)));
  if (w.files.length === 0 && !w.notRead.some((n) => n.dir)) {
    throw new UsageError(`input directory has no .json, .jsonl or .gz files: ${path}`);
  }
  return { path, files: w.files, notRead: w.notRead, meta };
}

/** The earliest declared start and the latest declared end over all snapshot metadata. */
function declaredWindowOf(metas: (SnapshotMeta | undefined)[]): TimeWindow | undefined {
  const froms = metas.map((m) => m?.window?.from).filter((x): x is string => !!x);
  const tos = metas.map((m) => m?.window?.to).filter((x): x is string => !!x);
  if (froms.length === 0 && tos.length === 0) return undefined;
  const w: TimeWindow = {};
  if (froms.length > 0) w.from = froms.sort()[0];
  if (tos.length > 0) w.to = tos.sort()[tos.length - 1];
  return w;
}

function declaredWindow(inputs: InputPlan[]): TimeWindow | undefined {
  return declaredWindowOf(inputs.map((p) => p.meta));
}

/** `--exclude` globs (`*` any run, `?` one character) against a path relative to its input, or its base name. */
export function excluder(globs: readonly string[]): (rel: string) => boolean {
  if (globs.length === 0) return () => false;
  const patterns = globs.map((g) => encodeGlob(g.replace(/\*\*\/?/g, "*")));
  return (rel) => {
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    return patterns.some((p) => globMatch(p, rel) || globMatch(p, base));
  };
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
  /** Globs of files and directories in an input directory not to read (`--exclude`). */
  exclude?: string[];
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
    const exclude = excluder(this.options.exclude ?? []);
    for (const path of this.paths) {
      checkAbort(options.abortSignal);
      inputs.push(await planInput(path, exclude));
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
      const scope = tally.open("files", input.path, input.files.length + input.notRead.length);
      scope.declareWindow(input.meta?.window);
      for (const { file: f, why, dir } of input.notRead)
        scope.partFailed({ file: `${relativeTo(input.path, f)}${dir ? "/" : ""}` }, why);
      for (const original of input.files) {
        const rel = input.shownAs?.[original] ?? relativeTo(input.path, original);
        let file = original;
        try {
          file = (await utf8CopyOf(original)) ?? original;
          scopeOf.set(file, { scope, input });
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
                if (it.t === "problem")
                  scope.unreadableRecord({ file: rel, line: it.line, element: it.element }, it.error);
                else if (it.t === "skipped")
                  scope.skippedRecord(it.kind, { file: rel, line: it.line, element: it.element }, it.reason);
                else if (it.t === "observation") {
                  scope.record(it.o.time);
                  const at = { file, line: it.line, offset: it.offset, length: it.length, gzip };
                  batch.push({ kind: "observation", ...it.o, at });
                } else if (it.t === "pending") {
                  scope.heldForJoin();
                  sites.add(it.pending, it.key, it.value, { shape: it.shape, location: file, index: it.line });
                } else {
                  scope.record(it.record.kind === "activity" ? it.record.time : undefined);
                  // A structured clone, not frozen: the mark travels with it to the engine.
                  if (it.baselined) (it.record as { [BASELINE_APPLIED]?: boolean })[BASELINE_APPLIED] = true;
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
