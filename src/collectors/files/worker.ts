/**
 * A worker thread of the files collector: reads one byte range of a large JSON Lines file —
 * splitting lines, the pre-filter, JSON.parse and classification, the costly part of a scan —
 * and posts batches of what it read to the main thread, which runs derivation and the engine.
 * The pipeline is independent of the order records arrive in (test/scan/order.test.ts), so
 * ranges may interleave. Flow control: at most WINDOW batches in flight, then it waits for the
 * main thread to take one.
 */
import { parentPort, workerData } from "node:worker_threads";
import { classify } from "../../azure/normalize/index.js";
import type { LineAggregator } from "../../azure/prefilter.js";
import { shareBuffers } from "../../engine/firstseen.js";
import type { LineFilter } from "../types.js";
import { type LineRange, originOf, streamLineRange } from "./json-stream.js";
import type { WorkerBatch, WorkerTask } from "./parallel.js";

const WINDOW = 4;
/** Items posted in one message at most. */
const MAX_BATCH_ITEMS = 64;
const task = workerData as WorkerTask;
const port = parentPort;
if (!port) throw new Error("the files worker runs only as a worker thread");

let credits = WINDOW;
let wake: (() => void) | undefined;
port.on("message", () => {
  credits++;
  wake?.();
});
const credit = async () => {
  while (credits <= 0) await new Promise<void>((r) => (wake = r));
  credits--;
};

async function run(): Promise<void> {
  let filter: LineFilter | undefined;
  let aggregator: LineAggregator | undefined;
  if (task.filter) {
    const m = (await import(task.filter.module)) as {
      createLineFilter(o: unknown): LineFilter;
      createAggregator?(o: unknown): LineAggregator;
    };
    filter = m.createLineFilter(task.filter.options);
    // Cleared lines are applied here, to baselines of this range, and sent back once as a share.
    const agg = m.createAggregator?.(task.filter.options);
    if (agg) {
      aggregator = agg;
      const file = task.file;
      filter = {
        ...filter,
        take: (bytes, start, end, line, offset) => agg.take(bytes, start, end, file, line, offset),
      };
    }
  }
  let reported = 0;
  /** What the aggregate took since the last batch, and its window so far. */
  const progress = (batch: WorkerBatch) => {
    if (!aggregator) return;
    batch.observed = aggregator.observed - reported;
    reported = aggregator.observed;
    if (aggregator.from !== undefined) batch.from = aggregator.from;
    if (aggregator.to !== undefined) batch.to = aggregator.to;
  };
  const range: LineRange = task.range;
  for await (const items of streamLineRange(task.file, range, filter)) {
    const batch: WorkerBatch = { items: [], observed: 0 };
    progress(batch);
    for (const item of items) {
      if (!item.ok) {
        batch.items.push({ t: "problem", line: item.line, error: item.error });
      } else if ("observation" in item) {
        batch.items.push({
          t: "observation",
          line: item.line,
          offset: item.offset,
          length: item.length,
          o: item.observation,
        });
      } else {
        const c = classify(item.value, originOf(task.file, item));
        if ("error" in c) batch.items.push({ t: "problem", line: item.line, element: item.element, error: c.error });
        else if ("skipped" in c)
          batch.items.push({ t: "skipped", line: item.line, element: item.element, kind: c.skipped, reason: c.reason });
        else if ("pending" in c)
          batch.items.push({
            t: "pending",
            line: item.line,
            pending: c.pending,
            key: c.key,
            value: c.value,
            shape: c.shape,
          });
        // The raw object is not sent: nothing after normalisation reads it, and cloning it costs what parsing did.
        else
          for (const r of c.records) {
            if (r.kind !== "activity") {
              batch.items.push({ t: "record", record: r });
              continue;
            }
            // Its first-seen tuples are hashed here, in this range's share, not on the busier main thread.
            aggregator?.addParsed(r);
            batch.items.push({
              t: "record",
              record: { ...r, raw: undefined },
              ...(aggregator ? { baselined: true as const } : {}),
            });
          }
      }
    }
    // Posted in parts: a chunk where every event is execution-relevant is hundreds of parsed
    // records, and the main thread holds what is in flight as objects in its young generation,
    // copied by each scavenge and promoted before the engine takes them. Peak RSS on that mix,
    // whole chunks against parts: 100k events 532-555 -> 398-412 MB, 2 GB 1,942 -> 854-987 MB.
    for (let i = 0; i === 0 || i < batch.items.length; i += MAX_BATCH_ITEMS) {
      const part: WorkerBatch =
        i === 0
          ? { ...batch, items: batch.items.slice(0, MAX_BATCH_ITEMS) }
          : { items: batch.items.slice(i, i + MAX_BATCH_ITEMS), observed: 0 };
      await credit();
      port?.postMessage(part);
    }
  }
  if (aggregator) {
    const last: WorkerBatch = { items: [], observed: 0 };
    progress(last);
    if (last.observed > 0) {
      await credit();
      port?.postMessage(last);
    }
    // The baselines' buffers are moved, not copied: the worker has no further use for them.
    const share = aggregator.share();
    port?.postMessage({ share }, shareBuffers(share.baselines));
  }
  port?.postMessage({ done: true });
}

run().catch((e: unknown) => port?.postMessage({ error: (e as Error).message ?? String(e) }));
