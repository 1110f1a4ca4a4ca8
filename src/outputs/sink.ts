/**
 * Where a renderer writes. Reports are written in pieces (a header, each finding, a footer), so
 * a scan with many findings never holds its whole report as one string, and a slow reader
 * (a pipe, a full disk) slows the writer instead of filling memory.
 */

import { unlinkSync } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface OutputSink {
  /** Resolves when the chunk may be followed by the next one (the stream drained, if it had to). */
  write(chunk: string): Promise<void>;
}

/** A sink over a stream the caller may also have to finish (a file; never stdout). */
export interface StreamSink extends OutputSink {
  /** Ends the stream and resolves once its data is flushed; rejects if any write failed. */
  end(): Promise<void>;
}

/**
 * A sink over a writable stream that honours backpressure. A stream error is kept and rethrown
 * by the next write or by end(): without a listener an 'error' event would crash the process,
 * and a write waiting for 'drain' on a failed or closed stream would wait forever.
 */
export function sinkFor(stream: NodeJS.WritableStream): StreamSink {
  let failure: Error | undefined;
  const fail = (e: Error): void => {
    failure ??= e;
  };
  stream.on("error", fail);
  const closed = (): Error => new Error("the output stream closed before the report was written");
  /** Resolves on `event`; rejects on an error, or on 'close' first (the rest of the report would be lost). */
  const next = (event: "drain" | "finish"): Promise<void> =>
    new Promise((resolve, reject) => {
      const settle = (e?: Error): void => {
        stream.off(event, onEvent);
        stream.off("close", onClose);
        stream.off("error", onError);
        if (e) reject(e);
        else resolve();
      };
      const onEvent = (): void => settle();
      const onClose = (): void => settle(failure ?? closed());
      const onError = (e: Error): void => settle(failure ?? e);
      stream.once(event, onEvent);
      stream.once("close", onClose);
      stream.once("error", onError);
    });
  return {
    async write(chunk) {
      if (failure) throw failure;
      // A destroyed stream emits nothing more, so waiting on it would never end.
      if (!stream.writable) throw closed();
      if (chunk.length === 0) return;
      if (!stream.write(chunk, (e) => e && fail(e))) await next("drain");
      if (failure) throw failure;
    },
    async end() {
      if (failure) throw failure;
      if (!stream.writable) return;
      const finished = next("finish");
      stream.end();
      await finished;
    },
  };
}

/** A file sink, which can also be dropped: its temporary file removed, the target left as it was. */
export interface FileSink extends StreamSink {
  abort(): Promise<void>;
}

/** Temporary files of reports being written: removed by `removeUnfinishedReports` on a signal. */
const unfinished = new Set<string>();

/**
 * Removes every report still being written (their temporary files). Synchronous: it runs in a
 * SIGINT/SIGTERM handler just before the process exits.
 */
export function removeUnfinishedReports(): void {
  for (const p of unfinished) {
    try {
      unlinkSync(p);
    } catch {
      // Already gone, or never created: nothing is left behind either way.
    }
  }
  unfinished.clear();
}

/**
 * A sink for a report file. It writes a temporary file beside the target and renames it over the
 * target at `end()`, so the target is either the previous file or the whole new report: a scan
 * that fails, is interrupted or is killed never leaves half a report that a CI step would then
 * upload. The file (and its directory, when missing) is created on the first write, so a renderer
 * that fails before writing anything leaves nothing behind.
 */
export function fileSink(path: string): FileSink {
  let inner: StreamSink | undefined;
  let temp: string | undefined;
  let direct = false;
  const drop = async (): Promise<void> => {
    if (temp === undefined) return;
    const t = temp;
    temp = undefined;
    unfinished.delete(t);
    await unlink(t).catch(() => undefined);
  };
  return {
    async write(chunk) {
      if (!inner) {
        // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written as it is: renaming a
        // file over it would replace the device itself.
        const existing = await stat(path).catch(() => undefined);
        if (existing && !existing.isFile()) {
          direct = true;
          inner = sinkFor((await open(path, "w")).createWriteStream());
          await inner.write(chunk);
          return;
        }
        await mkdir(dirname(path), { recursive: true });
        temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
        unfinished.add(temp);
        const handle = await open(temp, "w");
        inner = sinkFor(handle.createWriteStream());
      }
      await inner.write(chunk);
    },
    async end() {
      if (direct) {
        direct = false;
        return inner?.end();
      }
      if (!inner || temp === undefined) return;
      try {
        await inner.end();
        await rename(temp, path);
        unfinished.delete(temp);
        temp = undefined;
      } catch (e) {
        await drop();
        throw e;
      }
    },
    async abort() {
      await inner?.end().catch(() => undefined);
      await drop();
    },
  };
}

/** A sink that collects what was written, for tests and for callers that need the text. */
export function stringSink(): OutputSink & { text(): string } {
  const chunks: string[] = [];
  return {
    async write(chunk) {
      chunks.push(chunk);
    },
    text: () => chunks.join(""),
  };
}
