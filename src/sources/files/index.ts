/**
 * File source: files or directories of JSON, JSON Lines and their .gz forms, in any record
 * shape `classify` knows, including the snapshot layout in docs/snapshot.md. Records stream out
 * one at a time; unreadable records are counted per input and reported as coverage.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import type { CoverageEntry } from "../../model/finding.js";
import type { AuditRecord } from "../../model/records.js";
import { UsageError } from "../../util/errors.js";
import { classify, SiteJoiner } from "../normalize/index.js";
import { isObj, str } from "../normalize/util.js";
import { NotJsonError, streamJsonFile } from "./json-stream.js";

const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;
const SNAPSHOT_META = "snapshot.json";
/** Problems listed by place in a coverage reason; the rest are counted. */
const MAX_LISTED_PROBLEMS = 5;

export interface InputPlan {
  path: string;
  files: string[];
  ignored: string[];
  /** snapshot.json of a snapshot directory, when present. */
  meta?: SnapshotMeta;
}

export interface SnapshotMeta {
  name?: string;
  window?: { from?: string; to?: string };
  subscriptions?: { subscriptionId: string; displayName?: string }[];
}

async function walk(dir: string, files: string[], ignored: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, files, ignored);
    else if (e.isFile() && DATA_FILE.test(e.name)) files.push(p);
    else ignored.push(p);
  }
}

/** Resolves every input up front so that usage mistakes fail before any scanning (exit 3). */
export async function planInputs(paths: string[]): Promise<InputPlan[]> {
  if (paths.length === 0) throw new UsageError("no input given: pass --input <file or directory> or --demo");
  const plans: InputPlan[] = [];
  for (const path of paths) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(path);
    } catch {
      throw new UsageError(`input path does not exist or cannot be read: ${path}`);
    }
    if (st.isFile()) {
      plans.push({ path, files: [path], ignored: [] });
      continue;
    }
    if (!st.isDirectory()) throw new UsageError(`input is neither a file nor a directory: ${path}`);
    const files: string[] = [];
    const ignored: string[] = [];
    await walk(path, files, ignored);
    const metaPath = join(path, SNAPSHOT_META);
    let meta: SnapshotMeta | undefined;
    if (files.includes(metaPath)) {
      files.splice(files.indexOf(metaPath), 1);
      meta = await readMeta(metaPath);
    }
    if (files.length === 0) {
      throw new UsageError(`input directory has no .json, .jsonl or .gz files: ${path}`);
    }
    plans.push({ path, files, ignored: ignored.filter((f) => !/(^|\/)(README\.md|\.gitkeep)$/i.test(f)), meta });
  }
  return plans;
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

/** Counts and first problems for one input; becomes one coverage entry. */
class InputTally {
  records = 0;
  unreadable = 0;
  failedFiles = 0;
  problems: string[] = [];
  from?: string;
  to?: string;

  constructor(readonly plan: InputPlan) {}

  problem(file: string, line: number | undefined, what: string): void {
    this.unreadable++;
    if (this.problems.length < MAX_LISTED_PROBLEMS) {
      this.problems.push(`${this.rel(file)}${line ? `:${line}` : ""} ${what}`);
    }
  }

  fileFailed(file: string, what: string): void {
    this.failedFiles++;
    if (this.problems.length < MAX_LISTED_PROBLEMS) this.problems.push(`${this.rel(file)} ${what}`);
  }

  seen(r: AuditRecord): void {
    this.records++;
    if (r.kind === "activity") {
      if (this.from === undefined || r.time < this.from) this.from = r.time;
      if (this.to === undefined || r.time > this.to) this.to = r.time;
    }
  }

  private rel(file: string): string {
    const r = relative(this.plan.path, file);
    return r === "" ? basename(file) : r;
  }

  entry(): CoverageEntry {
    const bad = this.unreadable + this.failedFiles;
    const status: CoverageEntry["status"] =
      this.failedFiles === this.plan.files.length ? "failed" : bad > 0 ? "partial" : "complete";
    const reasons: string[] = [];
    if (this.unreadable > 0) reasons.push(`${this.unreadable} unreadable record(s) skipped`);
    if (this.failedFiles > 0) reasons.push(`${this.failedFiles} file(s) could not be read`);
    if (this.problems.length > 0) reasons.push(`first: ${this.problems.join("; ")}`);
    if (this.plan.ignored.length > 0) {
      reasons.push(
        `${this.plan.ignored.length} non-JSON file(s) ignored (e.g. ${this.rel(this.plan.ignored[0] as string)})`,
      );
    }
    const e: CoverageEntry = {
      source: "files",
      scope: this.plan.path,
      status,
      records: this.records,
    };
    const from = this.plan.meta?.window?.from ?? this.from;
    const to = this.plan.meta?.window?.to ?? this.to;
    if (from) e.from = from;
    if (to) e.to = to;
    if (reasons.length > 0) e.reason = reasons.join(". ");
    if (this.unreadable > 0) (e as CoverageEntry & { unreadable: number }).unreadable = this.unreadable;
    return e;
  }
}

/**
 * Reads every planned input. Coverage entries are pushed to `coverage` as each input finishes.
 */
export async function* readFiles(plans: InputPlan[], coverage: CoverageEntry[]): AsyncGenerator<AuditRecord> {
  for (const plan of plans) {
    const tally = new InputTally(plan);
    const sites = new SiteJoiner();
    for (const file of plan.files) {
      try {
        for await (const item of streamJsonFile(file)) {
          if (!item.ok) {
            tally.problem(file, item.line, item.error);
            continue;
          }
          const c = classify(item.value, { location: file, index: item.line });
          if ("error" in c) {
            tally.problem(file, item.line, c.error);
          } else if ("pending" in c) {
            sites.add(c.pending, c.key, c.value, { shape: c.shape, location: file, index: item.line });
          } else {
            for (const r of c.records) {
              tally.seen(r);
              yield r;
            }
          }
        }
      } catch (e) {
        if (e instanceof NotJsonError) tally.fileFailed(file, e.message);
        else tally.fileFailed(file, `could not be read (${(e as Error).message})`);
      }
    }
    for (const orphan of sites.orphanSettings()) {
      tally.problem(plan.path, undefined, `app settings for ${orphan} have no matching site record`);
    }
    for (const r of sites.drain()) {
      tally.seen(r);
      yield r;
    }
    coverage.push(tally.entry());
  }
}
