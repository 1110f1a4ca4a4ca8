import { access, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { fileSink, sinkFor, stringSink } from "../../src/outputs/sink.js";

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
  it("creates the file on the first write, not before", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "aea-sink-")), "report.txt");
    const sink = fileSink(path);
    await expect(access(path)).rejects.toThrow();
    await sink.write("a");
    await sink.write("b\n");
    await sink.end();
    expect(await readFile(path, "utf8")).toBe("ab\n");
  });

  it("ending an unwritten sink creates nothing", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "aea-sink-")), "report.txt");
    await fileSink(path).end();
    await expect(access(path)).rejects.toThrow();
  });

  it("rejects the first write when the file cannot be opened", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "aea-sink-")), "missing", "report.txt");
    await expect(fileSink(path).write("x")).rejects.toMatchObject({ code: "ENOENT" });
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
