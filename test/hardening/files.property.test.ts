/**
 * Property tests of the files collector and everything behind it (JSON Lines, JSON documents,
 * envelopes, .gz, UTF-8 BOM, UTF-16, CRLF; the record classifier, the tolerant Activity Log
 * reader, the resource, site, role and image readers, the payload extractors): the real samples
 * of ./samples.ts, each on a line of its own, with mutated lines between them (truncated, raw
 * control characters, invalid UTF-8, wrong types, missing and duplicated keys, MiB strings, huge
 * arrays, 100k-level nesting, junk), in every encoding the collector reads.
 *
 * Each time: the scan ends (no exception, within the test's time-out), every good line is still
 * read and still gives its findings, every line that cannot be a record is counted as unreadable,
 * and no good line is ever named as the problem.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
import type { ScanResult } from "../../src/model/finding.js";
import { BUILTIN_RULES_DIR } from "../../src/paths.js";
import { type LoadedRules, loadRules } from "../../src/rules/loader.js";
import { runScan } from "../../src/scan/run.js";
import { tempDir } from "../helpers.js";
import { GOOD, type Mutated, mutation, runs } from "./samples.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let loaded: LoadedRules;
let n = 0;

async function scanFile(name: string, bytes: Buffer, prefilter = false): Promise<ScanResult> {
  const file = join(tmp.dir, `${n++}-${name}`);
  writeFileSync(file, bytes);
  const { result } = await runScan({
    collectors: [new FilesCollector([file], { workers: 1 })],
    loaded,
    noPrefilter: !prefilter,
    now: () => new Date("2026-11-21T00:00:00Z"),
  });
  return result;
}

const ruleIds = (r: ScanResult) => [...new Set(r.findings.map((f) => f.ruleId))].sort();

type Encoding = "utf8" | "bom" | "crlf" | "gzip" | "utf16le" | "utf16be";
const ENCODINGS: Encoding[] = ["utf8", "bom", "crlf", "gzip", "utf16le", "utf16be"];

function encode(lines: Buffer[], enc: Encoding): { bytes: Buffer; ext: string } {
  const eol = Buffer.from(enc === "crlf" ? "\r\n" : "\n");
  const body = Buffer.concat(lines.flatMap((l) => [l, eol]));
  switch (enc) {
    case "bom":
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]), ext: "jsonl" };
    case "gzip":
      return { bytes: gzipSync(body), ext: "jsonl.gz" };
    case "utf16le":
      return {
        bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body.toString("utf8"), "utf16le")]),
        ext: "jsonl",
      };
    case "utf16be": {
      const le = Buffer.from(body.toString("utf8"), "utf16le");
      return { bytes: Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()]), ext: "jsonl" };
    }
    default:
      return { bytes: body, ext: "jsonl" };
  }
}

/** Line numbers named in a coverage reason's "first: file:LINE …" list. */
function blamedLines(reason: string | undefined): number[] {
  const first = /first: (.*)/.exec(reason ?? "")?.[1] ?? "";
  return [...first.matchAll(/\.jsonl(?:\.gz)?:(\d+)/g)].map((m) => Number(m[1]));
}

let baseline: { records: number; rules: string[] };

beforeAll(async () => {
  loaded = await loadRules([BUILTIN_RULES_DIR], { builtin: BUILTIN_RULES_DIR });
  const r = await scanFile(
    "good.jsonl",
    encode(
      GOOD.map((g) => Buffer.from(JSON.stringify(g.value))),
      "utf8",
    ).bytes,
  );
  baseline = { records: r.coverage[0]?.records ?? 0, rules: ruleIds(r) };
}, 60_000);

describe("the samples", () => {
  it("are all read, and carry findings", () => {
    // The site and its app settings are joined into one record.
    expect(baseline.records).toBe(GOOD.length - 1);
    expect(baseline.rules.length).toBeGreaterThanOrEqual(2);
  });
});

/**
 * With the pre-filter (src/azure/prefilter.ts) on, an Activity Log line of an operation no rule
 * reads is not parsed: its fields are found in its bytes (src/azure/normalize/lean.ts), and a
 * line damaged between them but still starting with `{` and ending with `}` is taken as read. So
 * the strict "every broken line is counted" holds with every line parsed (the first property);
 * with the pre-filter, the rest still holds (the second).
 */
function mixedLinesProperty(prefilter: boolean) {
  return fc.asyncProperty(
    fc.array(fc.tuple(fc.nat(GOOD.length - 1), mutation()), { minLength: 1, maxLength: 4 }),
    fc.array(fc.nat(), { minLength: GOOD.length, maxLength: GOOD.length }),
    fc.constantFrom(...ENCODINGS),
    fc.boolean(),
    async (mutations, order, enc, goodFirst) => {
      const bad: Mutated[] = mutations.map(([g, m]) => m((GOOD[g] as (typeof GOOD)[number]).value));
      // Good lines in a random order, broken lines between them; the first line is good or broken.
      const items: { good: boolean; bytes: Buffer; m?: Mutated }[] = GOOD.map((g) => ({
        good: true,
        bytes: Buffer.from(JSON.stringify(g.value)),
      }));
      for (const [i, m] of bad.entries()) {
        const at = goodFirst ? 1 + ((order[i] ?? 0) % items.length) : (order[i] ?? 0) % (items.length + 1);
        items.splice(at, 0, { good: false, bytes: m.bytes, m });
      }
      const { bytes, ext } = encode(
        items.map((x) => x.bytes),
        enc,
      );
      const r = await scanFile(`mixed.${ext}`, bytes, prefilter);
      const cov = r.coverage[0];
      const label = `${enc} ${items.map((x) => (x.good ? "good" : x.m?.kind)).join(",")}: ${cov?.reason}`;
      expect(cov, label).toBeDefined();
      // Every good line read, every finding it gives still there.
      expect(cov?.records ?? 0, label).toBeGreaterThanOrEqual(baseline.records);
      expect(ruleIds(r), label).toEqual(expect.arrayContaining(baseline.rules));
      // Every line that cannot be a record counted, and the scan not complete.
      const mustFail = prefilter ? 0 : bad.filter((m) => m.mustFail).length;
      expect(cov?.unreadable ?? 0, label).toBeGreaterThanOrEqual(mustFail);
      if (mustFail > 0) expect(cov?.status, label).toBe("partial");
      // Problems are located, and never at a good line.
      const goodLines = new Set(items.flatMap((x, i) => (x.good ? [i + 1] : [])));
      const blamed = blamedLines(cov?.reason);
      if (mustFail > 0) expect(blamed.length, label).toBeGreaterThan(0);
      for (const line of blamed) expect(goodLines.has(line), `${label} blames line ${line}`).toBe(false);
    },
  );
}

describe("JSON Lines with broken lines between good ones", () => {
  it("every line parsed: reads every good line, counts and locates every broken one, blames no good one", async () => {
    await fc.assert(mixedLinesProperty(false), { numRuns: runs(40) });
  }, 120_000);

  it("with the pre-filter: reads every good line and its findings, blames no good one", async () => {
    await fc.assert(mixedLinesProperty(true), { numRuns: runs(25) });
  }, 120_000);
});

describe("JSON documents (az arrays, ARM pages, Event Hub batches) with mutated elements", () => {
  /** Documents written from their elements' text (a 100k-level element is past JSON.stringify). */
  const layouts: ((items: string[]) => string)[] = [
    (items) => `[${items.join(",\n")}]`,
    (items) => `{"value":[${items.join(",\n")}],"nextLink":null}`,
    (items) => `{"records":[${items.join(",")}]}`,
    (items) => `[{"records":[${items.slice(0, 3).join(",")}]},\n{"records":[${items.slice(3).join(",")}]}]`,
  ];

  it("reads every good element whatever the others hold", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(GOOD.length - 1), mutation()), { minLength: 1, maxLength: 3 }),
        fc.nat(layouts.length - 1),
        fc.boolean(),
        fc.constantFrom<Encoding>("utf8", "bom", "crlf", "gzip", "utf16le"),
        async (mutations, layout, pretty, enc) => {
          // Only mutations that leave the element JSON: one that is not breaks the document.
          const ok = mutations
            .map(([g, m]) => m((GOOD[g] as (typeof GOOD)[number]).value))
            .filter((m) => !m.mustFail && !m.kind.startsWith("junk"));
          const elements = [
            ...GOOD.map((g) => JSON.stringify(g.value, null, pretty ? 2 : undefined)),
            ...ok.map((m) => m.bytes.toString("utf8")),
          ];
          const text = (layouts[layout] as (items: string[]) => string)(elements);
          const { bytes, ext } = encode([Buffer.from(text)], enc);
          const r = await scanFile(`doc.${ext.replace("jsonl", "json")}`, bytes);
          const cov = r.coverage[0];
          const label = `${enc} layout ${layout} ${ok.map((m) => m.kind).join(",")}: ${cov?.reason}`;
          expect(cov?.records ?? 0, label).toBeGreaterThanOrEqual(baseline.records);
          expect(ruleIds(r), label).toEqual(expect.arrayContaining(baseline.rules));
        },
      ),
      { numRuns: runs(25) },
    );
  }, 120_000);

  it("a document cut anywhere: the scan ends, is not complete, and says where", async () => {
    const text = JSON.stringify({ value: GOOD.map((g) => g.value) }, null, 2);
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0.05, max: 0.98, noNaN: true }), fc.boolean(), async (cut, gzip) => {
        const part = Buffer.from(text.slice(0, Math.floor(text.length * cut)));
        const r = await scanFile(gzip ? "cut.json.gz" : "cut.json", gzip ? gzipSync(part) : part);
        const cov = r.coverage[0];
        expect(cov?.status).not.toBe("complete");
        expect(cov?.reason).toMatch(/cut\.json(\.gz)?(:\d+)? /);
      }),
      { numRuns: runs(20) },
    );
  }, 60_000);
});
