/**
 * Both cores for one large file: a plain JSON Lines file is split at line boundaries into one
 * range per worker thread (worker.ts), and their batches are yielded as they come. Records keep
 * their true line numbers, so the report is the same with one worker or several.
 */
import { Worker } from "node:worker_threads";
import type { Json } from "../../azure/normalize/util.js";
import type { ActivityObservation, AuditRecord, ObservationShare } from "../../model/records.js";
import { builtModule } from "../../paths.js";
import type { LineFilter } from "../types.js";
import { type LineRange, lineRanges } from "./json-stream.js";

export interface WorkerTask {
  file: string;
  range: LineRange;
  filter?: { module: string; options: unknown };
}

export type WorkerItem =
  /** baselined: the worker applied the record to its first-seen baselines (records.ts BASELINE_APPLIED). */
  | { t: "record"; record: AuditRecord; baselined?: true }
  | { t: "observation"; line: number; offset: number; length: number; o: Omit<ActivityObservation, "kind" | "at"> }
  | { t: "problem"; line: number; element?: number; error: string }
  | { t: "skipped"; line: number; element?: number; kind: "not-activity" | "unresolved"; reason: string }
  | { t: "pending"; line: number; pending: "site" | "appsettings"; key: string; value: Json; shape: string };

export interface WorkerBatch {
  items: WorkerItem[];
  /** Observations applied in the worker (not sent), and their window. */
  observed: number;
  from?: string;
  to?: string;
}

type Share = Omit<ObservationShare, "kind" | "observed" | "from" | "to">;
type Message = WorkerBatch | { share: Share } | { done: true } | { error: string };

/** What the collector gets: batches as they come, then each worker's share of observations. */
export type ParallelOutput = { batch: WorkerBatch } | { share: Share };

const WORKER_URL = import.meta.url.endsWith(".ts")
  ? builtModule(new URL("./worker.ts", import.meta.url).href)
  : new URL("./worker.js", import.meta.url);

/** A worker's young generation, in MB (V8 sizes it as three semi-spaces: 2 MB each here). */
const WORKER_YOUNG_MB = 6;

/** Batches of one file read by `workers` threads, in the order they arrive. */
export async function* readInParallel(
  file: string,
  size: number,
  workers: number,
  filter: LineFilter | undefined,
  abortSignal?: AbortSignal,
): AsyncGenerator<ParallelOutput> {
  const ranges = await lineRanges(file, size, workers);
  const queue: { from: number; m: Message }[] = [];
  let notify: (() => void) | undefined;
  const threads = ranges.map((range, i) => {
    const task: WorkerTask = { file, range, ...(filter?.worker ? { filter: filter.worker } : {}) };
    // Each worker is a V8 heap of its own; a small young generation keeps the pool's RSS near
    // what its live data needs (bin/azure-exec-audit.js does the same for the main thread).
    const w = new Worker(WORKER_URL, {
      workerData: task,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    w.on("message", (m: Message) => {
      queue.push({ from: i, m });
      notify?.();
    });
    w.on("error", (e) => {
      queue.push({ from: i, m: { error: e.message } });
      notify?.();
    });
    return w;
  });
  let running = threads.length;
  try {
    while (running > 0) {
      if (abortSignal?.aborted) return;
      const next = queue.shift();
      if (!next) {
        await new Promise<void>((r) => (notify = r));
        continue;
      }
      const m = next.m;
      if ("error" in m) throw new Error(m.error);
      if ("done" in m) {
        running--;
        continue;
      }
      if ("share" in m) {
        yield { share: m.share };
        continue;
      }
      yield { batch: m };
      // The worker that sent it may send one more: each keeps at most a few batches in flight.
      threads[next.from]?.postMessage(0);
    }
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
