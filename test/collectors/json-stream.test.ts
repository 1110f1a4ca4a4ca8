/** File reading: layouts, streaming, and bad input reported rather than dropped. */
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { NotJsonError, streamJsonFile } from "../../src/collectors/files/json-stream.js";
import { UsageError } from "../../src/util/errors.js";
import { gz, readAll, streamItems, tempDir, vmStartEvent } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const items = streamItems;

const event = (i: number) => ({
  ...vmStartEvent(i),
  properties: { note: 'has } and ] and " inside' },
});

describe("JSON layouts", () => {
  it("streams elements of a pretty-printed top-level array (az output)", async () => {
    const f = tmp.write("arr.json", JSON.stringify([event(1), event(2), event(3)], null, 2));
    const got = await items(f);
    expect(got.map((x) => x.ok && "value" in x && (x.value as { correlationId: string }).correlationId)).toEqual([
      "c-1",
      "c-2",
      "c-3",
    ]);
    expect(got.map((x) => x.line)).toEqual([2, 13, 24]); // 11 lines per pretty-printed event
  });
  it("streams the value[] of an ARM list page and the records[] of an Event Hub batch", async () => {
    const page = tmp.write("page.json", JSON.stringify({ value: [event(1), event(2)], nextLink: null }, null, 1));
    const batch = tmp.write("batch.json.gz", gz(JSON.stringify({ records: [event(3)] }, null, 1)));
    expect((await items(page)).filter((x) => x.ok)).toHaveLength(2);
    expect((await items(batch)).filter((x) => x.ok)).toHaveLength(1);
  });
  it("treats a file whose first line is a whole document as JSON Lines, with a BOM", async () => {
    const f = tmp.write("PT1H.json", `\ufeff${[event(1), event(2)].map((e) => JSON.stringify(e)).join("\r\n")}\r\n`);
    const got = await items(f);
    expect(got).toHaveLength(2);
    expect(got[1]?.line).toBe(2);
  });
  it("keeps a non-wrapper object whole even if a nested member is called value", async () => {
    const f = tmp.write("single.json", JSON.stringify({ id: "x", properties: { value: [1, 2] } }, null, 2));
    const got = await items(f);
    expect(got).toEqual([{ ok: true, value: { id: "x", properties: { value: [1, 2] } }, line: 1 }]);
  });
});

describe("bad input", () => {
  it("a file that is not JSON is a file-level error", async () => {
    const f = tmp.write("notes.json", "hello, world\n");
    await expect(items(f)).rejects.toBeInstanceOf(NotJsonError);
    const { coverage } = await readAll([f]);
    expect(coverage[0]).toMatchObject({ status: "failed", records: 0 });
    expect(coverage[0]?.reason).toContain("notes.json is not JSON or JSON Lines");
  });
  it("a truncated JSON Lines file: good lines are read, the cut line is counted with its line number", async () => {
    const lines = [event(1), event(2), event(3)].map((e) => JSON.stringify(e));
    const f = tmp.write("cut/PT1H.json", `${lines[0]}\n${lines[1]}\n${(lines[2] as string).slice(0, 40)}`);
    const { records, coverage } = await readAll([f]);
    expect(records).toHaveLength(2);
    expect(coverage[0]).toMatchObject({ status: "partial", records: 2, unreadable: 1 });
    expect(coverage[0]?.reason).toMatch(/PT1H\.json:3 not valid JSON/);
  });
  it("a truncated JSON document keeps what was complete and says where it stopped", async () => {
    const text = JSON.stringify([event(1), event(2)], null, 2);
    const f = tmp.write("cut.json", text.slice(0, text.length - 30));
    const { records, coverage } = await readAll([f]);
    expect(records).toHaveLength(1);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toContain("truncated");
  });
  it("a corrupt .gz file is reported, not thrown", async () => {
    const good = gz(JSON.stringify([event(1)]));
    const f = tmp.write("bad.json.gz", Buffer.concat([good.subarray(0, 12), Buffer.from("garbage")]));
    const { coverage } = await readAll([f]);
    expect(coverage[0]?.status).not.toBe("complete");
  });
  it("records of unknown shape are counted with file and line", async () => {
    const f = tmp.write("mixed.jsonl", [JSON.stringify(event(1)), JSON.stringify({ hello: "world" }), "42"].join("\n"));
    const { records, coverage } = await readAll([f]);
    expect(records).toHaveLength(1);
    expect(coverage[0]).toMatchObject({ status: "partial", unreadable: 2 });
    expect(coverage[0]?.reason).toContain("mixed.jsonl:2 has an unknown record shape");
    expect(coverage[0]?.reason).toContain("mixed.jsonl:3 is not a JSON object");
  });
  it("a missing path and an empty directory are usage errors", async () => {
    await expect(new FilesCollector([`${tmp.dir}/nope`]).plan()).rejects.toThrow(UsageError);
    const empty = `${tmp.dir}/empty`;
    tmp.write("empty/README.txt", "nothing");
    await expect(new FilesCollector([empty]).plan()).rejects.toThrow(/has no \.json, \.jsonl or \.gz files/);
  });
});

describe("streaming", () => {
  it("reads a 40 MB JSON array without holding the file (live heap grows far less than the file)", async () => {
    // Collected heap, not the raw peak: without a forced collection the peak depends on when V8
    // chose to collect (it failed once on a loaded CI machine while the reader was fine).
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const n = 60_000;
    let size = 0;
    const f = (() => {
      const chunks: string[] = ["[\n"];
      for (let i = 0; i < n; i++)
        chunks.push(`${i ? ",\n" : ""}${JSON.stringify({ ...event(i), properties: { pad: "x".repeat(500) } })}`);
      chunks.push("\n]\n");
      size = chunks.reduce((a, c) => a + c.length, 0);
      return tmp.write("big.json", chunks.join(""));
    })();
    gc();
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    let peak = before;
    for await (const batch of streamJsonFile(f)) {
      for (const it of batch) if (it.ok) count++;
      if (count % 10_000 < batch.length) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    expect(count).toBe(n);
    expect(size).toBeGreaterThan(35_000_000);
    // Holding the file would keep its text (UTF-16 in V8: ~2x the size) or its parsed values alive.
    expect(peak - before).toBeLessThan(size / 4);
  });
});
