/**
 * Input order never changes a verdict: the demo's records pushed through the record pipeline
 * forwards, backwards and interleaved give identical findings (what a worker pool merging
 * partial results in any order needs too).
 */
import { describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import { BUILTIN_RULES_DIR, DEMO_TENANT_DIR } from "../../src/paths.js";
import { loadRules } from "../../src/rules/loader.js";
import { RecordPipeline } from "../../src/scan/pipeline.js";
import { runScan } from "../../src/scan/run.js";
import { readAll } from "../helpers.js";

const loaded = await loadRules([BUILTIN_RULES_DIR]);
const { records } = await readAll([DEMO_TENANT_DIR]);
const { result } = await runScan({ collectors: [new FilesCollector([DEMO_TENANT_DIR])], loaded });
const windowFrom = result.coverage
  .map((c) => c.from)
  .filter((x): x is string => !!x)
  .sort()[0];

function scan(order: typeof records, findings?: number, diagnostics?: Diagnostics) {
  const p = new RecordPipeline({
    ...loaded,
    scanTime: "2026-12-01T00:00:00.000Z",
    windowFrom,
    ...(findings !== undefined ? { limits: { findings } } : {}),
    ...(diagnostics ? { diagnostics } : {}),
  });
  for (const r of order) p.push(r);
  return p.finish();
}

describe("input order", () => {
  const forwards = scan(records);
  it("the pipeline on the demo finds what the scan finds", () => {
    expect(forwards.map((f) => f.id).sort()).toEqual(result.findings.map((f) => f.id).sort());
  });
  it("backwards gives identical findings", () => {
    expect(scan([...records].reverse())).toEqual(forwards);
  });
  it("interleaved (odd records, then even) gives identical findings", () => {
    expect(scan([...records.filter((_, i) => i % 2), ...records.filter((_, i) => !(i % 2))])).toEqual(forwards);
  });
});

describe("input order past the findings bound", () => {
  // The demo raises more distinct findings than this: the bound decides which are kept.
  const bound = 5;
  const run = (order: typeof records) => {
    const d = new Diagnostics();
    const findings = scan(order, bound, d);
    return { findings, bound: d.list().filter((x) => x.code === "engine/findings-bound") };
  };
  const forwards = run(records);
  it("keeps the same findings and counts the same loss whatever the order", () => {
    expect(forwards.bound).toHaveLength(1);
    expect(forwards.findings.filter((f) => f.evidence.kind !== "chain").length).toBeLessThanOrEqual(bound);
    expect(run([...records].reverse())).toEqual(forwards);
    expect(run([...records.filter((_, i) => i % 2), ...records.filter((_, i) => !(i % 2))])).toEqual(forwards);
    for (let seed = 1; seed <= 5; seed++) {
      // A seeded shuffle (Park–Miller), so a failure can be replayed.
      let x = seed;
      const shuffled = [...records];
      for (let i = shuffled.length - 1; i > 0; i--) {
        x = (x * 16807) % 2147483647;
        const j = x % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j] as (typeof records)[number], shuffled[i] as (typeof records)[number]];
      }
      expect(run(shuffled)).toEqual(forwards);
    }
  });
});
