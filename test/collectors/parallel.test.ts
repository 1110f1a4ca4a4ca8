/**
 * Both cores: a JSON Lines file split across worker threads gives the report one thread gives —
 * the same findings, coverage (records, window, problems) and diagnostics, and records keep their
 * true line numbers. The workers run the built dist/ (npm test builds it first).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { BUILTIN_RULES_DIR, DEMO_TENANT_DIR, PACKAGE_ROOT } from "../../src/paths.js";
import { loadRules } from "../../src/rules/loader.js";
import { runScan } from "../../src/scan/run.js";
import { tempDir } from "../helpers.js";

const loaded = await loadRules([BUILTIN_RULES_DIR]);
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function scan(paths: string[], workers: number) {
  const { result } = await runScan({
    collectors: [new FilesCollector(paths, { workers, parallelBytes: 1 })],
    loaded,
    now: () => new Date("2026-12-01T00:00:00Z"),
    newId: () => "scan",
  });
  return { findings: result.findings, coverage: result.coverage, diagnostics: result.diagnostics };
}

describe("worker threads", () => {
  it("the demo tenant: one worker or two, the same report", async () => {
    const one = await scan([DEMO_TENANT_DIR], 1);
    expect(one.findings.length).toBeGreaterThan(0);
    expect(await scan([DEMO_TENANT_DIR], 2)).toEqual(one);
  }, 180_000);

  it("a generated export corpus with a cut line: the same report, the cut line located once", async () => {
    const out = join(tmp.dir, "gen.jsonl");
    execFileSync(process.execPath, [
      join(PACKAGE_ROOT, "bench/generate.mjs"),
      ...["--events", "8000", "--mix", "0.05", "--shape", "export", "--seed", "3", "--out", out],
    ]);
    const { readFileSync, writeFileSync } = await import("node:fs");
    const lines = readFileSync(out, "utf8").split("\n");
    lines[5000] = (lines[5000] as string).slice(0, 300); // a truncated record in the second half
    writeFileSync(out, lines.join("\n"));
    const one = await scan([out], 1);
    const two = await scan([out], 2);
    expect(two).toEqual(one);
    expect(one.coverage[0]).toMatchObject({ status: "partial", unreadable: 1 });
    expect(one.coverage[0]?.reason).toMatch(/gen\.jsonl:5001 not valid JSON/);
  }, 180_000);

  it("every event execution-relevant: hundreds of records a chunk, posted in parts, none lost", async () => {
    // A 1 MB chunk of this mix is about 380 parsed records, more than one message carries.
    const out = join(tmp.dir, "all.jsonl");
    execFileSync(process.execPath, [
      join(PACKAGE_ROOT, "bench/generate.mjs"),
      ...["--events", "3000", "--mix", "1", "--shape", "export", "--seed", "5", "--out", out],
    ]);
    const one = await scan([out], 1);
    expect(one.coverage[0]).toMatchObject({ status: "complete", records: 3000 });
    expect(one.findings.length).toBeGreaterThan(100);
    expect(await scan([out], 2)).toEqual(one);
  }, 180_000);
});
