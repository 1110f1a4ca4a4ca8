/**
 * The bench's command lines (bench/run.mjs, bench/generate.mjs): help and bad options answer at once. Before, an
 * unknown option was ignored, so `npm run bench -- --help` began the default run (7 GB of
 * generated data, about ten minutes). Each case runs the script the way npm runs it and must
 * exit before any measurement starts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/paths.js";

const script =
  (name: string, ...pre: string[]) =>
  (...args: string[]) =>
    spawnSync(process.execPath, [...pre, join(PACKAGE_ROOT, "bench", name), ...args], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, AEA_BENCH_CACHE: join(PACKAGE_ROOT, "does-not-exist-bench-cache") },
    });
const bench = script("run.mjs", "--expose-gc");
const generate = script("generate.mjs");

describe("npm run bench -- <options>", () => {
  it("--help prints the options and runs nothing", () => {
    const r = bench("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run bench/);
    expect(r.stdout).toContain("--table-size");
    expect(r.stderr).not.toContain("[bench");
  });

  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [["--runs", "x"], /bad --runs 'x'/],
    [["--mix", "5"], /bad mix '5'/],
    [["--sizes", "10q"], /bad size '10q'/],
    [["--shapes", "csv"], /bad shape 'csv'/],
  ])("%j is refused with one line naming it (exit 2)", (args, message) => {
    const r = bench(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toMatch(message);
    expect(r.stderr).not.toContain("    at ");
    expect(r.stderr).not.toContain("[bench");
  });
});

describe("node bench/generate.mjs <options>", () => {
  it("--help prints the options and writes nothing", () => {
    const r = generate("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: node bench\/generate\.mjs/);
    expect(r.stdout).not.toContain('"generator"');
  });

  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [["--mix", "2"], /bad --mix '2'/],
    [["--events", "many"], /bad --events 'many'/],
    [["--shape", "csv"], /bad --shape 'csv'/],
  ])("%j is refused with one line naming it (exit 2)", (args, message) => {
    const r = generate(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain("    at ");
    expect(r.stdout).toBe("");
  });
});
