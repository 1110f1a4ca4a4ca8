/**
 * Regression tests for the bugs the property tests (./files.property.test.ts and the others in
 * this directory) found, one per bug, each the smallest input that showed it.
 */
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { GZIP_RATIO_FLOOR } from "../../src/collectors/files/json-stream.js";
import { exampleBody, readAll, streamItems, tempDir, vmStartEvent } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const items = streamItems;

const event = (i: number) => JSON.stringify(vmStartEvent(i));
const ids = (got: Awaited<ReturnType<typeof items>>) =>
  got.flatMap((x) => (x.ok && "value" in x ? [(x.value as { correlationId: string }).correlationId] : []));
const errors = (got: Awaited<ReturnType<typeof items>>) => got.flatMap((x) => (x.ok ? [] : [x.line]));

describe("JSON Lines with a broken line", () => {
  it("bug 1: a first line longer than 1 MiB, then a line whose document never closes, loses only that line", async () => {
    // The first line was too long to choose the mode by, so the file was read as documents one
    // after another, and the unclosed one swallowed every line after it ("is truncated").
    const long = event(1).replace('"category"', `"pad":"${"x".repeat(1_100_000)}","category"`);
    const f = tmp.write(
      "long-first.jsonl",
      [long, event(2), `{"a":${'{"a":'.repeat(1000)}1`, event(3), event(4)].join("\n"),
    );
    const got = await items(f);
    expect(ids(got)).toEqual(["c-1", "c-2", "c-3", "c-4"]);
    expect(errors(got)).toEqual([3]);
  });

  it("bug 1 too: the long first line broken itself is one unreadable record, and the lines after it are read", async () => {
    const long = `{"pad":"${"x".repeat(1_100_000)}"`;
    const f = tmp.write("long-broken-first.jsonl", [long, event(2), event(3)].join("\n"));
    const got = await items(f);
    expect(ids(got)).toEqual(["c-2", "c-3"]);
    expect(errors(got)).toEqual([1]);
  });

  it("bug 2: a broken first line (not JSON by itself) no longer makes the file a document that swallows the rest", async () => {
    for (const first of ["{", '{"time":"2026-11-01T00:00:00Z","operationName":"MICRO', "[1,", '{"a":"unterminated']) {
      const f = tmp.write("broken-first.jsonl", [first, event(2), event(3), event(4)].join("\n"));
      const got = await items(f);
      expect(ids(got), first).toEqual(["c-2", "c-3", "c-4"]);
      expect(errors(got), first).toEqual([1]);
      const { coverage } = await readAll([f]);
      expect(coverage[0], first).toMatchObject({ status: "partial", records: 3, unreadable: 1 });
    }
  });

  it("a pretty-printed document is still read as one document", async () => {
    const doc = (o: unknown) => JSON.stringify(o, null, 2);
    for (const text of [
      doc([JSON.parse(event(1)), JSON.parse(event(2))]),
      doc({ value: [JSON.parse(event(1)), JSON.parse(event(2))] }),
      `[\n${event(1)}\n]`,
      `{"value": [\n${event(1)},\n${event(2)}\n]}`,
    ]) {
      const f = tmp.write("pretty.json", text);
      const got = await items(f);
      expect(errors(got), text.slice(0, 40)).toEqual([]);
      expect(ids(got).length, text.slice(0, 40)).toBeGreaterThan(0);
    }
  });
});

describe("gzip", () => {
  it("bug 3: a decompression bomb is stopped at the ratio cap, located, and the records before it kept", async () => {
    // 64 MiB of blank lines after one good record compress about 1000:1; before the cap the
    // reader went through all of it (a few GB of newlines took minutes), with no limit at all.
    const bomb = Buffer.concat([
      Buffer.from(`${event(1)}\n`),
      Buffer.alloc(64 << 20, 10),
      Buffer.from(`${event(2)}\n`),
    ]);
    const f = tmp.write("bomb.jsonl.gz", gzipSync(bomb, { level: 9 }));
    const { records, coverage } = await readAll([f]);
    expect(records.map((r) => r.kind === "activity" && r.correlationId)).toEqual(["c-1"]);
    // Not read to the end: not complete (failed, as its only file failed, with the record before kept).
    expect(coverage[0]?.status).not.toBe("complete");
    expect(coverage[0]?.reason).toMatch(
      /bomb\.jsonl\.gz could not be read \(decompresses to more than 500 times its compressed size/,
    );
    // Stopped just past the floor (8 MiB), not at the end of the 64 MiB.
    const out = Number(/\((\d+) bytes out of \d+\)/.exec(coverage[0]?.reason ?? "")?.[1]);
    expect(out).toBeGreaterThan(GZIP_RATIO_FLOOR);
    expect(out).toBeLessThan(GZIP_RATIO_FLOOR + (4 << 20));
  }, 30_000);

  it("a well-compressed real file (one record repeated, about 170:1) is read in full", async () => {
    const lines = Array.from({ length: 20_000 }, () => event(1)).join("\n");
    const f = tmp.write("same.jsonl.gz", gzipSync(lines, { level: 9 }));
    const { records, coverage } = await readAll([f]);
    expect(records).toHaveLength(20_000);
    expect(coverage[0]?.status).toBe("complete");
  }, 30_000);
});

describe("sites", () => {
  it("bug 4: a site without a usable name is an unreadable record, and does not replace a readable copy of the same site", async () => {
    // The joiner held the broken copy in place of the good one, then dropped it when joining:
    // one site fewer, and nothing said (found by files.property.test.ts, a duplicated "name").
    const site = exampleBody("GetWebApp.json") as Record<string, unknown>;
    const f = tmp.write("sites.jsonl", [JSON.stringify(site), JSON.stringify({ ...site, name: [] })].join("\n"));
    const { records, coverage } = await readAll([f]);
    expect(records.map((r) => r.kind)).toEqual(["functionApp"]);
    expect(coverage[0]).toMatchObject({ status: "partial", records: 1, unreadable: 1 });
    expect(coverage[0]?.reason).toContain("sites.jsonl:2 is a site without a name");
  });
});

describe("deep nesting and long lines", () => {
  it("bug 5: a record nested 100k levels deep where a time should be is one unreadable record, not a file that could not be read", async () => {
    // The message quoting the bad time serialised the whole value: JSON.stringify overflowed the
    // stack, and the exception ended the file ("could not be read (Maximum call stack size exceeded)").
    const deep = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    const bad = event(1).replace('"2026-11-01T00:00:01Z"', deep);
    const f = tmp.write("deep.jsonl", [event(0), bad, event(2)].join("\n"));
    const { records, coverage } = await readAll([f]);
    expect(records).toHaveLength(2);
    expect(coverage[0]).toMatchObject({ status: "partial", records: 2, unreadable: 1 });
    expect(coverage[0]?.reason).toContain(
      'deep.jsonl:2 has a time that is not an ISO-8601 date-time: time "{\\"a\\":{\\"a\\":{\\"a\\":{\\"a\\":{…}}}}}"',
    );
  });

  it("bug 6: a broken first line followed by a line longer than the peek window is still JSON Lines", async () => {
    const long = event(2).replace('"category"', `"pad":"${"x".repeat(3_000_000)}","category"`);
    const f = tmp.write("broken-then-long.jsonl", [`{"a":${'{"a":'.repeat(1000)}1`, long, event(3)].join("\n"));
    const got = await items(f);
    expect(ids(got)).toEqual(["c-2", "c-3"]);
    expect(errors(got)).toEqual([1]);
  });
});

describe("documents split over lines", () => {
  it("a document whose top-level elements are on lines of their own, one longer than the peek window, is still one document", async () => {
    const big = event(5).replace('"category"', `"pad":"${"x".repeat(3_000_000)}","category"`);
    const f = tmp.write("split.json", `[{"records":[${event(1)},${event(2)}]},\n{"records":[${big},${event(3)}]}]`);
    const got = await items(f);
    expect(ids(got)).toEqual(["c-1", "c-2", "c-5", "c-3"]);
    expect(errors(got)).toEqual([]);
  });
});
