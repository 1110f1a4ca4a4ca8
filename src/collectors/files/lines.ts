/**
 * One batch of streamed lines into collected items, the same way for every line-based source (a
 * file, an archive blob): an unreadable line is counted and located, a line the pre-filter
 * cleared becomes an observation with the LineRef that reads it back, anything else is
 * classified. What differs between sources is passed in: where a line is, the window, and what
 * to do with a record that waits for another (an app setting for its site).
 */
import { type Classified, classify } from "../../azure/normalize/index.js";
import type { CollectedItem } from "../../model/records.js";
import type { ScopeTally } from "../tally.js";
import { originOf, type StreamItem } from "./json-stream.js";

export interface LineSource {
  /** How problems name the file (a path relative to the input, a blob name). */
  shown: string;
  /** What records and LineRefs name (the full path, the blob URL). */
  location: string;
  gzip: boolean;
  scope: ScopeTally;
  /** False drops a record or observation by its time (the caller counts it); default keep all. */
  keep?: (time: string | undefined) => boolean;
  /** A record that waits for another; default: counted as unreadable. */
  pending?: (c: Extract<Classified, { pending: unknown }>, line: number) => void;
}

export function takeLines(items: readonly StreamItem[], src: LineSource): CollectedItem[] {
  const { scope, keep } = src;
  const batch: CollectedItem[] = [];
  for (const item of items) {
    if (!item.ok) {
      scope.unreadableRecord({ file: src.shown, line: item.line }, item.error);
      continue;
    }
    if ("observation" in item) {
      if (keep && !keep(item.observation.time)) continue;
      const at = { file: src.location, line: item.line, offset: item.offset, length: item.length, gzip: src.gzip };
      scope.record(item.observation.time);
      batch.push({ kind: "observation", ...item.observation, at });
      continue;
    }
    const c = classify(item.value, originOf(src.location, item));
    const loc =
      item.element === undefined
        ? { file: src.shown, line: item.line }
        : { file: src.shown, line: item.line, element: item.element };
    if ("error" in c) scope.unreadableRecord(loc, c.error);
    else if ("skipped" in c) scope.skippedRecord(c.skipped, loc, c.reason);
    else if ("pending" in c) {
      if (src.pending) src.pending(c, item.line);
      else
        scope.unreadableRecord(
          { file: src.shown, line: item.line },
          `is a ${c.shape} record, not an Activity Log event`,
        );
    } else {
      for (const r of c.records) {
        const time = r.kind === "activity" ? r.time : undefined;
        if (keep && !keep(time)) continue;
        scope.record(time);
        batch.push(r);
      }
    }
  }
  return batch;
}
