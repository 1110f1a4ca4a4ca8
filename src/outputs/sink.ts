/**
 * Where a renderer writes. Reports are written in pieces (a header, each finding, a footer), so
 * a scan with many findings never holds its whole report as one string, and a slow reader
 * (a pipe, a full disk) slows the writer instead of filling memory.
 */

import { open } from "node:fs/promises";

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

/**
 * A sink for a file that is opened on the first write, so a renderer that fails before writing
 * anything (a bad option value) leaves an existing file as it was.
 */
export function fileSink(path: string): StreamSink {
  let inner: StreamSink | undefined;
  return {
    async write(chunk) {
      if (!inner) {
        const handle = await open(path, "w");
        inner = sinkFor(handle.createWriteStream());
      }
      await inner.write(chunk);
    },
    async end() {
      await inner?.end();
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
