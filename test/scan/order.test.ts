/**
 * Input order never changes a verdict: the demo's records pushed through the record pipeline
 * forwards, backwards and interleaved give identical findings (what a worker pool merging
 * partial results in any order needs too).
 */
import { describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
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

function scan(order: typeof records) {
  const p = new RecordPipeline({ ...loaded, scanTime: "2026-12-01T00:00:00.000Z", windowFrom });
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
