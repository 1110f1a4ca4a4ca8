import { execFileSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { access, lstat, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { fileSink, removeUnfinishedReports, sinkFor, stringSink } from "../../src/outputs/sink.js";
import { tempDir } from "../helpers.js";

/** Every directory a test makes is under this one, removed after the file's tests. */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A stream that takes `delayMs` per chunk and buffers at most `highWaterMark` bytes. */
function slowStream(highWaterMark: number, delayMs: number, fail?: Error) {
  const received: string[] = [];
  const stream = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      setTimeout(() => {
        if (fail) return done(fail);
        received.push(chunk);
        done();
      }, delayMs);
    },
  });
  return { stream, received };
}

describe("sinkFor", () => {
  it("waits for 'drain' instead of buffering past the high-water mark", async () => {
    const { stream, received } = slowStream(8, 1);
    const sink = sinkFor(stream);
    let drains = 0;
    stream.on("drain", () => drains++);
    const chunks = Array.from({ length: 20 }, (_, i) => `chunk-${i};`);
    for (const c of chunks) {
      await sink.write(c);
      expect(stream.writableLength).toBeLessThan(stream.writableHighWaterMark);
    }
    await sink.end();
    expect(received.join("")).toBe(chunks.join(""));
    expect(drains).toBeGreaterThan(0);
  });

  it("turns a stream error into a rejected write instead of a crash or a hang", async () => {
    const { stream } = slowStream(4, 1, new Error("disk full"));
    const sink = sinkFor(stream);
    await expect(
      (async () => {
        for (let i = 0; i < 10; i++) await sink.write("more than four bytes");
      })(),
    ).rejects.toThrow("disk full");
    await expect(sink.write("x")).rejects.toThrow("disk full");
    await expect(sink.end()).rejects.toThrow("disk full");
  });

  it("does not wait forever when the stream is destroyed while it waits", async () => {
    const { stream } = slowStream(1, 50);
    const sink = sinkFor(stream);
    const pending = sink.write("needs a drain");
    stream.destroy();
    await expect(pending).rejects.toThrow(/closed before the report was written/);
    await expect(sink.write("after")).rejects.toThrow(/closed/);
  });
});

describe("fileSink", () => {
  it("creates the file on the first write, not before, and only when the report ends", async () => {
    const dir = await mkdtemp(join(tmp.dir, "aea-sink-"));
    const path = join(dir, "report.txt");
    const sink = fileSink(path);
    await expect(access(path)).rejects.toThrow();
    await sink.write("a");
    await sink.write("b\n");
    // Until end() the target is untouched: a report cut short never replaces it.
    await expect(access(path)).rejects.toThrow();
    await sink.end();
    expect(await readFile(path, "utf8")).toBe("ab\n");
    expect(await readdir(dir)).toEqual(["report.txt"]);
  });

  it("ending an unwritten sink creates nothing", async () => {
    const path = join(await mkdtemp(join(tmp.dir, "aea-sink-")), "report.txt");
    await fileSink(path).end();
    await expect(access(path)).rejects.toThrow();
  });

  it("creates a missing directory", async () => {
    const path = join(await mkdtemp(join(tmp.dir, "aea-sink-")), "missing", "deeper", "report.txt");
    const sink = fileSink(path);
    await sink.write("x");
    await sink.end();
    expect(await readFile(path, "utf8")).toBe("x");
  });

  it("abort leaves the previous file as it was and no temporary file", async () => {
    const dir = await mkdtemp(join(tmp.dir, "aea-sink-"));
    const path = join(dir, "report.txt");
    await writeFile(path, "previous");
    const sink = fileSink(path);
    await sink.write("half a rep");
    await sink.abort();
    expect(await readFile(path, "utf8")).toBe("previous");
    expect(await readdir(dir)).toEqual(["report.txt"]);
  });

  it("a pipe (a FIFO, /dev/null) is written in place, never replaced by a renamed file", async () => {
    const dir = await mkdtemp(join(tmp.dir, "aea-sink-"));
    const fifo = join(dir, "report.fifo");
    execFileSync("mkfifo", [fifo]);
    const received: Buffer[] = [];
    const reader = createReadStream(fifo).on("data", (d) => received.push(d as Buffer));
    const done = new Promise<void>((resolve) => reader.on("end", () => resolve()));
    const sink = fileSink(fifo);
    await sink.write("through ");
    await sink.write("the pipe\n");
    await sink.end();
    await done;
    expect(Buffer.concat(received).toString()).toBe("through the pipe\n");
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect(await readdir(dir)).toEqual(["report.fifo"]);
  });

  it("removeUnfinishedReports deletes reports still being written (what a signal does)", async () => {
    const dir = await mkdtemp(join(tmp.dir, "aea-sink-"));
    await fileSink(join(dir, "report.txt")).write("half");
    expect((await readdir(dir)).length).toBe(1);
    removeUnfinishedReports();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("stringSink", () => {
  it("collects what was written, in order", async () => {
    const sink = stringSink();
    await sink.write("one ");
    await sink.write("");
    await sink.write("two");
    expect(sink.text()).toBe("one two");
  });
});
