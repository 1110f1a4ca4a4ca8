/**
 * The pre-filter never changes a verdict: the whole pack, with and without it, over the demo
 * tenant, every rule test case written as JSON Lines, and generated corpora of both shapes at
 * three execution mixes, gives identical findings, coverage and diagnostics.
 */
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { prefilterFor } from "../../src/azure/prefilter.js";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { BUILTIN_RULES_DIR, DEMO_TENANT_DIR, PACKAGE_ROOT } from "../../src/paths.js";
import { loadRules } from "../../src/rules/loader.js";
import { testsFileFor } from "../../src/rules/tester.js";
import { runScan } from "../../src/scan/run.js";
import { VARIANTS } from "../azure/activity-variants.js";
import { tempDir } from "../helpers.js";

const loaded = await loadRules([BUILTIN_RULES_DIR]);
const FIRST_SEEN = new Set(loaded.rules.filter((r) => r.ext.firstseen).map((r) => r.id));
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function both(paths: string[], workers = 1) {
  const scan = (noPrefilter: boolean) =>
    runScan({
      // With workers, lines the filter clears are applied in the worker threads straight from their bytes.
      collectors: [new FilesCollector(paths, noPrefilter ? {} : { workers, parallelBytes: 0 })],
      loaded,
      noPrefilter,
      now: () => new Date("2026-12-01T00:00:00Z"),
      newId: () => "scan",
    });
  const [on, off] = [await scan(false), await scan(true)];
  expect(off.result.stats.observed).toBe(0);
  const view = (r: typeof on) => ({
    findings: r.result.findings,
    coverage: r.result.coverage,
    diagnostics: r.result.diagnostics,
  });
  return { on: view(on), off: view(off), observed: on.result.stats.observed };
}

describe("the pre-filter gives the findings of a full parse", () => {
  it("is active for the built-in pack", () => {
    expect(prefilterFor(loaded.rules).disabled).toBeUndefined();
  });

  it("on the demo tenant", async () => {
    const { on, off, observed } = await both([DEMO_TENANT_DIR]);
    expect(on.findings.length).toBeGreaterThan(0);
    expect(observed).toBeGreaterThan(300);
    expect(on).toEqual(off);
  });

  it("on every rule test case, written one record per line", async () => {
    const files: string[] = [];
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".tests.yml") ? [join(d, e.name)] : [],
      );
    for (const [n, f] of walk(BUILTIN_RULES_DIR).entries()) {
      const doc = parse(readFileSync(f, "utf8")) as Record<string, { records?: unknown[] }[]>;
      for (const kind of ["match", "nomatch"]) {
        for (const [i, c] of (doc[kind] ?? []).entries()) {
          const lines = (c.records ?? []).map((r) => JSON.stringify(r)).join("\n");
          files.push(tmp.write(`cases/${n}-${kind}-${i}.jsonl`, `${lines}\n`));
        }
      }
    }
    expect(files.length).toBeGreaterThan(300);
    expect(testsFileFor("x.yml")).toBe("x.tests.yml");
    // Cases one by one, so a case's records meet only each other, as in `rules test`.
    let observed = 0;
    for (const f of files) {
      const r = await both([f]);
      expect(r.on, f).toEqual(r.off);
      observed += r.observed;
    }
    expect(observed).toBeGreaterThan(10);
  }, 120_000);

  for (const shape of ["export", "rest"] as const) {
    for (const mix of [0.001, 0.05, 1]) {
      it(`on a generated ${shape} corpus, ${mix * 100}% execution-relevant`, async () => {
        const out = join(tmp.dir, `gen-${shape}-${mix}.jsonl`);
        execFileSync(process.execPath, [
          join(PACKAGE_ROOT, "bench/generate.mjs"),
          "--events",
          "6000",
          "--mix",
          String(mix),
          "--shape",
          shape,
          "--seed",
          "7",
          // Two weeks, so the first-seen rules (7 days of learning) decide on baselines the filter built.
          "--gap-seconds",
          "450",
          "--out",
          out,
        ]);
        if (shape === "rest") {
          // REST pages hold 200 events each (always parsed); one event per line is what the filter reads.
          const events = readFileSync(out, "utf8")
            .split("\n")
            .filter((l) => l.trim() !== "")
            .flatMap((l) => (JSON.parse(l) as { value: unknown[] }).value.map((e) => JSON.stringify(e)));
          writeFileSync(out, `${events.join("\n")}\n`);
        }
        const { on, off, observed } = await both([out]);
        expect(on.coverage[0]?.records).toBe(6000);
        if (mix < 1) expect(observed).toBeGreaterThan(3000);
        expect(on).toEqual(off);
        if (mix === 0.05) expect(on.findings.some((f) => FIRST_SEEN.has(f.ruleId))).toBe(true);
        const threads = await both([out], 2);
        expect(threads.observed).toBe(observed);
        expect(threads.on).toEqual(off);
      }, 60_000);
    }
  }
});

/** A resource id with `subscriptions`/`resourceGroups`/`providers`, namespaces and type segments upper-cased. */
function upperTypes(id: string): string {
  const parts = id.split("/");
  let typeAt = -1;
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i] as string;
    const low = seg.toLowerCase();
    if (low === "subscriptions" || low === "resourcegroups") {
      parts[i] = seg.toUpperCase();
      i++;
    } else if (low === "providers") {
      parts[i] = seg.toUpperCase();
      parts[i + 1] = (parts[i + 1] ?? "").toUpperCase();
      typeAt = i + 2;
      i++;
    } else if (i === typeAt) {
      parts[i] = seg.toUpperCase();
      typeAt = i + 2;
    }
  }
  return parts.join("/");
}

/** Every line of every file under `dir` (the demo's activity export) rewritten by `f`. */
function rewriteLines(dir: string, f: (record: Record<string, unknown>) => unknown): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith(".json")) continue;
    const file = join(e.parentPath, e.name);
    const lines = readFileSync(file, "utf8").split("\n");
    writeFileSync(
      file,
      lines.map((l) => (l.trim() === "" ? l : JSON.stringify(f(JSON.parse(l) as Record<string, unknown>)))).join("\n"),
    );
  }
}

describe("the same attack in every variant of the export shape gives the same findings, with and without the pre-filter", () => {
  /** A scan's view with the copy's directory taken out of every location. */
  const strip = (v: unknown, dir: string) => JSON.parse(JSON.stringify(v).split(dir).join("<demo>"));
  let baseline: unknown;
  const copyOfDemo = (name: string) => {
    const dir = join(tmp.dir, name);
    cpSync(DEMO_TENANT_DIR, dir, { recursive: true });
    return dir;
  };

  it("the demo as it is (baseline)", async () => {
    const dir = copyOfDemo("variant-base");
    const { on } = await both([dir]);
    baseline = strip({ findings: on.findings, coverage: on.coverage }, dir);
    expect(on.findings.length).toBeGreaterThan(0);
  }, 120_000);

  it("operation names and the keywords, namespaces and types of resource ids in upper case (names as written)", async () => {
    const dir = copyOfDemo("variant-upper");
    const upper = (r: Record<string, unknown>) => ({
      ...r,
      operationName:
        typeof r.operationName === "string"
          ? r.operationName.toUpperCase()
          : {
              ...(r.operationName as object),
              value: String((r.operationName as { value: string }).value).toUpperCase(),
            },
      ...(typeof r.resourceId === "string" ? { resourceId: upperTypes(r.resourceId) } : {}),
    });
    rewriteLines(join(dir, "activity"), upper);
    // The REST pages (where the demo's attack is): every event of each page.
    let events = 0;
    for (const e of readdirSync(join(dir, "activity"), { withFileTypes: true, recursive: true })) {
      if (!e.isFile() || !e.name.endsWith(".json.gz")) continue;
      const file = join(e.parentPath, e.name);
      const page = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as { value: Record<string, unknown>[] };
      page.value = page.value.map(upper);
      events += page.value.length;
      writeFileSync(file, gzipSync(JSON.stringify(page)));
    }
    expect(events).toBeGreaterThan(1000);
    const { on, off } = await both([dir]);
    expect(on).toEqual(off);
    // Identical findings: ids, and every string shown (operations and resource ids in canonical case).
    expect(strip({ findings: on.findings, coverage: on.coverage }, dir)).toEqual(baseline);
  }, 120_000);

  for (const v of VARIANTS.filter((x) => x.shapes.includes("export"))) {
    it(v.change, async () => {
      const dir = copyOfDemo(`variant-${v.id}`);
      rewriteLines(join(dir, "activity"), v.apply);
      const { on, off } = await both([dir]);
      expect(on).toEqual(off);
      expect(strip({ findings: on.findings, coverage: on.coverage }, dir)).toEqual(baseline);
    }, 120_000);
  }
});
