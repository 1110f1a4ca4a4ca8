// Benchmark (npm run bench): the full scan against peers on the SAME generated file, in one run
// on one machine, reported as ratios to a plain readline + JSON.parse loop. Uses the built dist/
// and bin/ (npm run build first). Every contender runs as its own process; wall time is measured
// here (best of the runs), peak RSS and CPU time by /usr/bin/time (or, without it, by the
// contender itself).
//
//   scan    node bin/azure-exec-audit.js scan --no-state --input FILE --format json --output /dev/null --allow-incomplete
//   scanState  the same with --state FILE.db that one untimed scan of the same input filled (side by side only)
//   loop    bench/contenders/parse-loop.mjs: readline + JSON.parse of every line (the baseline)
//   jq      jq -c selecting the pack's operation names (object lookup), when jq is installed
//   duckdb  bench/contenders/duckdb.mjs: count(*) over read_json(FILE, format='newline_delimited')
//           with the same filter, when @duckdb/node-api is installed (devDependency, loaded lazily)
//
// Sections: (1) side by side per shape (export JSON Lines, REST pages) at --table-size;
// (a) scaling of the scan over --sizes on the main mix; (b) the pack ×10 (built-in + 9 copies
// under fresh ids via --rules) against the pack, per event, also net of start-up; (c) the mixes
// 0.1% / 5% / 100% execution-relevant at --mix-size. Results: bench/results/latest.json.
//
//   npm run bench                      sizes 100k and 1M (~10 minutes on 2 cores, first run included)
//   npm run bench -- --help            the options (USAGE below); an unknown option is an error
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { cacheDir, dataset, GENERATOR_VERSION } from "./generate.mjs";
import { readOptions } from "./lib/options.mjs";
import { copyPack, packOperations, placeholderLists, root, ruleFiles } from "./lib/pack.mjs";

// ---------------------------------------------------------------------------------------------
// Options

const USAGE = `usage: npm run bench [-- options]

  (no options)          sizes 100k and 1M (~10 minutes on 2 cores, first run included)
  --full                adds 5M to the scaling
  --sizes LIST          scaling sizes, e.g. 100k,1M,10M
  --mix N               the main mix (share of execution-relevant events; default 0.05)
  --mixes LIST          mixes compared at --mix-size (default 0.001,0.05,1)
  --shapes LIST         side-by-side shapes: export,rest
  --table-size N        events in the side-by-side tables (default the largest size, at most 1M)
  --mix-size N          events in the mixes table (default the smallest size)
  --pack-size N         events for the pack ×10 comparison (default the smallest size)
  --runs N              runs per contender, best kept (default 3)
  --seed N              generator seed (default 1)
  --out FILE            results JSON (default bench/results/latest.json)
  --no-jq, --no-duckdb  leave a contender out
  --no-time             measure RSS in the contenders instead of with /usr/bin/time
  -h, --help            this text

Generated files are cached in $AEA_BENCH_CACHE or the system temporary directory (aea-bench).
`;

const { opt, flag, number, fail } = readOptions("bench", USAGE, {
  sizes: { type: "string" },
  mix: { type: "string" },
  mixes: { type: "string" },
  shapes: { type: "string" },
  seed: { type: "string" },
  "table-size": { type: "string" },
  "mix-size": { type: "string" },
  "pack-size": { type: "string" },
  runs: { type: "string" },
  out: { type: "string" },
  full: { type: "boolean" },
  "no-jq": { type: "boolean" },
  "no-duckdb": { type: "boolean" },
  "no-time": { type: "boolean" },
});
const parseSize = (s) => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(String(s).trim());
  if (!m) fail(`bad size '${s}' (use e.g. 100k, 1M, 250000)`);
  return Math.round(Number(m[1]) * (m[2].toLowerCase() === "k" ? 1e3 : m[2].toLowerCase() === "m" ? 1e6 : 1));
};
const fmtSize = (n) =>
  n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 100 === 0 ? `${n / 1e3}k` : String(n);
const list = (s, f) => String(s).split(",").filter(Boolean).map(f);
const share = (s) => {
  const v = Number(s);
  if (!(v > 0 && v <= 1)) fail(`bad mix '${s}' (a share of events between 0 and 1, e.g. 0.05)`);
  return v;
};

const sizes = list(opt("sizes", flag("full") ? "100k,1M,5M" : "100k,1M"), parseSize).sort((a, b) => a - b);
const mix = share(opt("mix", "0.05"));
const mixes = list(opt("mixes", "0.001,0.05,1"), share);
const shapes = list(opt("shapes", "export,rest"), String);
for (const s of shapes) if (s !== "export" && s !== "rest") fail(`bad shape '${s}' (export or rest)`);
const seed = number("seed", "1", Number.isInteger);
const tableSize = parseSize(opt("table-size", String(Math.min(1e6, sizes[sizes.length - 1]))));
const mixSize = parseSize(opt("mix-size", String(sizes[0])));
const packSize = parseSize(opt("pack-size", String(sizes[0])));
const RUNS = number("runs", "3", (v) => Number.isInteger(v) && v >= 1);
/** Files above this are measured once: they take long enough for noise to matter less... */
const REPEAT_BELOW_BYTES = 600e6;
/** ...unless a run took less than this: then it is cheap to repeat, and short runs are the noisy ones. */
const REPEAT_BELOW_SECONDS = 6;
const outFile = opt("out", join(root, "bench/results/latest.json"));
const useJq = !flag("no-jq");
const useDuckdb = !flag("no-duckdb");

const t0 = process.hrtime.bigint();
const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
const log = (s) => process.stderr.write(`[bench ${elapsed().toFixed(0).padStart(4)} s] ${s}\n`);
const say = (s = "") => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------
// Setup

const node = process.execPath;
const bin = join(root, "bin/azure-exec-audit.js");
/** The V8 flags the bin's shebang gives node (`#!/usr/bin/env -S node …`): the scan runs as users run it. */
const binFlags = (
  readFileSync(bin, "utf8")
    .split("\n")[0]
    .match(/^#!\S*env -S node\s+(.*)$/)?.[1] ?? ""
)
  .split(/\s+/)
  .filter(Boolean);
if (!existsSync(join(root, "dist/cli/main.js"))) {
  console.error("bench: dist/ is missing; run `npm run bench` (it builds first) or `npm run build`");
  process.exit(3);
}
const TIME = "/usr/bin/time";
/** --no-time: measure RSS in the contenders (the fallback for machines without /usr/bin/time). */
const haveTime = existsSync(TIME) && !flag("no-time");
const JQ = existsSync("/usr/bin/jq") ? "/usr/bin/jq" : spawnSync("jq", ["--version"]).status === 0 ? "jq" : undefined;
const jqVersion = JQ ? spawnSync(JQ, ["--version"], { encoding: "utf8" }).stdout.trim() : undefined;

const work = mkdtempSync(join(tmpdir(), "aea-bench-run-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const lists = await placeholderLists();
const pack = packOperations(lists);
const opsFile = join(work, "ops.json");
writeFileSync(opsFile, JSON.stringify(pack.lower));
const opsObject = JSON.stringify(Object.fromEntries(pack.lower.map((n) => [n, true])));

const git = (args) => {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
};
const machine = {
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model,
  memoryGB: +(totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  jq: jqVersion ?? null,
  timeTool: haveTime ? TIME : "process.resourceUsage() in the contender",
  commit: git(["rev-parse", "--short", "HEAD"]),
  dirtySrc: Boolean(git(["status", "--porcelain", "--", "src", "detections"])),
};

// ---------------------------------------------------------------------------------------------
// Measuring one process

/**
 * Runs cmd and returns wall seconds (measured here), CPU seconds and peak RSS (from /usr/bin/time,
 * else from the JSON line the contender prints), exit code, and stdout (or its line count).
 */
function runProcess(cmd, args, { countLines = false, rssFromStdout = false } = {}) {
  return new Promise((resolve, reject) => {
    const timeFile = join(work, `time-${process.hrtime.bigint()}`);
    const [c, a] = haveTime ? [TIME, ["-o", timeFile, "-f", "%e %U %S %M", cmd, ...args]] : [cmd, args];
    const load = loadavg()[0];
    const start = process.hrtime.bigint();
    const child = spawn(c, a, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let lines = 0;
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => {
      if (countLines) {
        for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
      } else if (out.length < 1e6) out += b;
    });
    child.stderr.on("data", (b) => {
      if (err.length < 1e5) err += b;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e9;
      let user;
      let sys;
      let rssKB;
      if (haveTime && existsSync(timeFile)) {
        const last = readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ");
        [user, sys, rssKB] = [Number(last[1]), Number(last[2]), Number(last[3])];
        rmSync(timeFile, { force: true });
      }
      let json;
      if (!countLines) {
        const line = out.trim().split("\n").pop();
        try {
          json = line?.startsWith("{") ? JSON.parse(line) : undefined;
        } catch {}
      }
      if ((!haveTime || rssFromStdout) && json?.maxRssKB !== undefined && rssKB === undefined) {
        [user, sys, rssKB] = [json.userS, json.sysS, json.maxRssKB];
      }
      resolve({ code, wall, user, sys, rssKB, lines, json, stderr: err, load });
    });
  });
}

/** Reads a file once, untimed, so that every contender finds it in the page cache. */
function warm(file) {
  return new Promise((resolve, reject) => {
    const s = createReadStream(file, { highWaterMark: 8 << 20 });
    s.on("data", () => {});
    s.on("end", resolve);
    s.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Contenders

let rulesDirs10;
const skipped = {};

/** One scan of a dataset through the CLI, as `npx azure-exec-audit` runs it; `state` is a state file or false. */
async function runScanCli(ds, rules, state) {
  const scanArgs = [
    "scan",
    ...(state ? ["--state", state] : ["--no-state"]),
    "--input",
    ds.file,
    "--format",
    "json",
    "--output",
    "/dev/null",
    "--allow-incomplete",
    ...rules,
  ];
  const r = haveTime
    ? await runProcess(node, [...binFlags, bin, ...scanArgs])
    : await runProcess(node, [...binFlags, join(root, "bench/contenders/scan.mjs"), ...scanArgs]);
  if (r.code !== 0 || /rule skipped|internal error/.test(r.stderr)) {
    throw new Error(`scan of ${ds.file} exited ${r.code}: ${r.stderr.trim().split("\n").slice(0, 5).join(" | ")}`);
  }
  return r;
}

/** State files of the `scanState` contender, one per dataset, seeded by one untimed scan. */
const stateFiles = new Map();

const CONTENDERS = {
  scan: {
    label: "scan (full CLI)",
    // No state: each run is the same cold scan, and nothing is left in the working directory.
    run: (ds, variant) => runScanCli(ds, variant === "x10" ? ["--rules", ...rulesDirs10] : [], false),
  },
  scanState: {
    label: "scan, state store (re-scan)",
    // The scheduled case: a state file that an earlier scan of the same input filled (baselines,
    // carried correlation matches, the who-wrote-what index, findings), loaded, merged and
    // written back. The seeding scan is not timed.
    async run(ds) {
      let state = stateFiles.get(ds.file);
      if (!state) {
        state = join(work, `state-${stateFiles.size}.db`);
        await runScanCli(ds, [], state);
        stateFiles.set(ds.file, state);
      }
      return runScanCli(ds, [], state);
    },
  },
  loop: {
    label: "readline + JSON.parse",
    async run(ds) {
      const r = await runProcess(
        node,
        [join(root, "bench/contenders/parse-loop.mjs"), ds.file, ds.meta.shape, opsFile],
        {
          rssFromStdout: true,
        },
      );
      if (r.code !== 0 || !r.json) throw new Error(`parse loop failed: ${r.stderr.trim()}`);
      if (r.json.events !== ds.meta.events)
        throw new Error(`parse loop saw ${r.json.events} events, expected ${ds.meta.events}`);
      r.matches = r.json.matches;
      return r;
    },
  },
  jq: {
    label: "jq select",
    // Single-threaded and steady, and the slowest contender: one run is enough.
    maxRuns: 1,
    available: () => {
      if (!useJq) skipped.jq = "--no-jq";
      else if (!JQ) skipped.jq = "jq is not installed (no /usr/bin/jq, none on PATH)";
      return useJq && Boolean(JQ);
    },
    async run(ds) {
      const filter =
        ds.meta.shape === "rest"
          ? ".value[] | select($ops[.operationName.value | ascii_downcase] // false)"
          : "select($ops[.operationName | ascii_downcase] // false)";
      const r = await runProcess(JQ, ["-c", "--argjson", "ops", opsObject, filter, ds.file], { countLines: true });
      if (r.code !== 0) throw new Error(`jq exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
      r.matches = r.lines;
      return r;
    },
  },
  duckdb: {
    label: "DuckDB read_json",
    available: () => {
      if (!useDuckdb) skipped.duckdb = "--no-duckdb";
      return useDuckdb && !skipped.duckdb;
    },
    async run(ds) {
      const r = await runProcess(node, [join(root, "bench/contenders/duckdb.mjs"), ds.file, ds.meta.shape, opsFile]);
      if (r.json?.skipped) {
        skipped.duckdb = r.json.skipped;
        return undefined;
      }
      if (r.code !== 0 || !r.json) throw new Error(`duckdb failed: ${r.stderr.trim().slice(0, 300)}`);
      r.matches = r.json.matches;
      r.threads = r.json.threads;
      machine.duckdb = r.json.version;
      return r;
    },
  },
};

/** Runs of (contender, file, variant), so a measurement made for one section serves the others. */
const samples = new Map();

/** Measures the contenders on one dataset, interleaved run by run so noise hits all alike. */
async function measure(ds, names, { variant = "", runs } = {}) {
  const want = runs ?? RUNS;
  const small = runs !== undefined || ds.meta.bytes < REPEAT_BELOW_BYTES;
  for (let i = 0; i < want; i++) {
    for (const name of names) {
      const c = CONTENDERS[name];
      if (c.available && !c.available()) continue;
      if (i >= (c.maxRuns ?? Number.POSITIVE_INFINITY)) continue;
      const key = `${name}|${ds.file}|${variant}`;
      const have = samples.get(key) ?? [];
      if (have.length > i) continue;
      if (i > 0 && !small && Math.min(...have.map((r) => r.wall)) >= REPEAT_BELOW_SECONDS) continue;
      log(`${name}${variant ? ` ${variant}` : ""} on ${ds.label} (run ${i + 1}/${want})`);
      // Re-read before every run: on a shared machine other work can evict the file from the
      // page cache, and every contender should start from the same (cached) state.
      await warm(ds.file);
      const r = await c.run(ds, variant);
      if (!r) continue;
      have.push(r);
      samples.set(key, have);
    }
  }
  const out = {};
  for (const name of names) {
    const runsOf = samples.get(`${name}|${ds.file}|${variant}`);
    if (runsOf?.length) out[name] = summarize(runsOf, ds);
  }
  return out;
}

/** Best of the runs (other work on the machine only ever adds time), median kept for reference. */
function summarize(runs, ds) {
  const sorted = [...runs].sort((a, b) => a.wall - b.wall);
  const best = sorted[0];
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const rssKB = Math.max(...runs.map((r) => r.rssKB ?? 0)) || undefined;
  return {
    runs: runs.length,
    wallS: best.wall,
    medianWallS: median.wall,
    maxWallS: sorted[sorted.length - 1].wall,
    cpuS: best.user !== undefined ? best.user + best.sys : undefined,
    peakRssMB: rssKB !== undefined ? (rssKB * 1024) / 1e6 : undefined,
    eventsPerS: ds.meta.events / best.wall,
    mbPerS: ds.meta.bytes / 1e6 / best.wall,
    usPerEvent: (best.wall / ds.meta.events) * 1e6,
    matches: best.matches,
    threads: best.threads,
    /** 1-minute load average when each run started (this bench's own process counts ~1). */
    loadAtStart: runs.map((r) => +r.load.toFixed(2)),
  };
}

/** The range of load averages over a section's results, to judge how busy the machine was. */
function loadNote(res) {
  const loads = Object.values(res).flatMap((r) => r?.loadAtStart ?? []);
  if (!loads.length) return "";
  return `1-min load average at the start of these runs: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${machine.cpus} CPUs (the bench's own contender counts ~1).`;
}

// ---------------------------------------------------------------------------------------------
// Datasets

function ORDER_ALL() {
  return ["scan", "scanState", "loop", "jq", "duckdb"];
}

function ds(shape, events, m) {
  const d = dataset({ events, mix: m, shape, seed, packNames: pack.names, log });
  return { ...d, label: `${shape} ${fmtSize(events)} @ ${m * 100}%` };
}

log(`pack: ${ruleFiles().length} rule files, ${pack.names.length} operation names; cache ${cacheDir()}`);
const wanted = [];
for (const shape of shapes) wanted.push([shape, tableSize, mix]);
for (const s of sizes) wanted.push(["export", s, mix]);
wanted.push(["export", packSize, mix], ["export", 1000, mix]);
for (const m of mixes) wanted.push(["export", mixSize, m]);
const datasets = new Map();
for (const [shape, n, m] of wanted) {
  const key = `${shape}|${n}|${m}`;
  if (!datasets.has(key)) datasets.set(key, ds(shape, n, m));
}
const D = (shape, n, m) => datasets.get(`${shape}|${n}|${m}`);
const tiny = D("export", 1000, mix);

// One untimed run of every contender first: loads the binaries (DuckDB's native library is
// ~50 MB) and the rule files into the page cache, so the first timed run is not a cold start.
for (const name of ORDER_ALL()) {
  const c = CONTENDERS[name];
  if (c.available && !c.available()) continue;
  log(`warm-up: ${name}`);
  await c.run(tiny, "");
}

// ---------------------------------------------------------------------------------------------
// Tables

const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));
const fint = (x) => (x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US"));
function table(header, rows, leftCols = 1) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  say(line(header));
  say(`|${widths.map((w, i) => (i < leftCols ? `${"-".repeat(w + 2)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of rows) say(line(r));
}
const ORDER = ORDER_ALL();
function contenderRows(res) {
  const base = res.loop;
  return ORDER.filter((k) => res[k]).map((k) => {
    const r = res[k];
    return [
      CONTENDERS[k].label + (r.threads > 1 ? ` (${r.threads} threads)` : ""),
      fint(r.eventsPerS),
      f(r.mbPerS, 0),
      f(r.wallS, 2),
      f(r.cpuS, 2),
      f(r.peakRssMB, 0),
      base ? f(base.wallS / r.wallS, 2) : "n/a",
      base?.cpuS && r.cpuS ? f(base.cpuS / r.cpuS, 2) : "n/a",
      r.matches === undefined ? "-" : fint(r.matches),
      r.runs,
    ];
  });
}
const CONTENDER_HEADER = [
  "contender",
  "events/s",
  "MB/s",
  "wall s",
  "CPU s",
  "peak RSS MB",
  "× loop (wall)",
  "× loop (CPU)",
  "matched",
  "runs",
];
const describe = (d) =>
  `${fmtSize(d.meta.events)} events, ${(d.meta.bytes / 1e6).toFixed(0)} MB, ${((d.meta.execEvents / d.meta.events) * 100).toFixed(2)}% execution-relevant (${fmtSize(d.meta.execEvents)} events)${d.meta.pages ? `, ${d.meta.pages} pages` : ""}`;

const results = {
  generatedAt: new Date().toISOString(),
  machine,
  options: { sizes, mix, mixes, shapes, seed, tableSize, mixSize, packSize, runs: RUNS, generator: GENERATOR_VERSION },
  pack: { ruleFiles: ruleFiles().length, operations: pack.names.length, notExact: pack.modified },
  datasets: Object.fromEntries([...datasets.values()].map((d) => [d.label, { file: d.file, ...d.meta }])),
  sideBySide: {},
  scaling: [],
  packTimesTen: undefined,
  mixes: [],
  skipped,
};
const checkCounts = (res, d) => {
  const seen = ORDER.filter((k) => res[k]?.matches !== undefined).map((k) => [k, res[k].matches]);
  const bad = seen.filter(([, m]) => m !== d.meta.execEvents);
  if (bad.length)
    say(
      `> count mismatch on ${d.label}: generator ${d.meta.execEvents}, ${seen.map(([k, m]) => `${k} ${m}`).join(", ")}`,
    );
};

say(`# azure-exec-audit benchmark`);
say();
say(
  `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGB} GiB RAM, Node ${machine.node}, ${machine.jq ?? "no jq"}; commit ${machine.commit}${machine.dirtySrc ? " (src/ or detections/ modified)" : ""}; peak RSS by ${machine.timeTool}.`,
);
say(`Pack: ${results.pack.ruleFiles} rule files selecting ${pack.names.length} operation names (from detections/).`);
if (pack.modified.length)
  say(`> not reproducible as exact names (peers filter without them): ${pack.modified.join("; ")}`);
say();

// (1) Side by side
for (const shape of shapes) {
  const d = D(shape, tableSize, mix);
  const res = await measure(d, ORDER);
  results.sideBySide[shape] = { dataset: d.label, ...res };
  say(
    `## Side by side: ${shape === "rest" ? 'REST pages (one {"value":[…]} page per line)' : "diagnostic export (JSON Lines)"}, ${describe(d)}`,
  );
  say();
  table(CONTENDER_HEADER, contenderRows(res));
  checkCounts(res, d);
  say(loadNote(res));
  say();
}

// (a) Scaling
say(`## (a) Scaling of the full scan, export shape, ${mix * 100}% mix`);
say();
{
  const start = (await measure(tiny, ["scan"], { runs: RUNS })).scan;
  for (const n of sizes) {
    const d = D("export", n, mix);
    const { scan } = await measure(d, ["scan"]);
    const netUs = ((scan.wallS - start.wallS) / n) * 1e6;
    results.scaling.push({ events: n, bytes: d.meta.bytes, netUsPerEvent: netUs, startupS: start.wallS, ...scan });
  }
  const first = results.scaling[0];
  table(
    [
      "events",
      "MB",
      "wall s",
      "µs/event",
      "µs/event net of start-up",
      "events/s",
      "peak RSS MB",
      "runs",
      `µs/event vs ${fmtSize(first.events)}`,
    ],
    results.scaling.map((r) => [
      fmtSize(r.events),
      f(r.bytes / 1e6, 0),
      f(r.wallS, 2),
      f(r.usPerEvent, 2),
      f(r.netUsPerEvent, 2),
      fint(r.eventsPerS),
      f(r.peakRssMB, 0),
      r.runs,
      f(r.usPerEvent / first.usPerEvent, 2),
    ]),
  );
  say(`Start-up (rules loaded, a 1k-event file scanned): ${f(start.wallS, 2)} s, best of ${start.runs}.`);
  say(loadNote(Object.fromEntries(results.scaling.map((r) => [r.events, r]))));
  say();
}

// (b) Pack × 10
{
  const base = join(work, "rules");
  rulesDirs10 = [];
  for (let k = 1; k <= 9; k++) {
    const dir = join(base, `copy${k}`);
    mkdirSync(dir, { recursive: true });
    copyPack(dir);
    rulesDirs10.push(dir);
  }
  const listed = spawnSync(node, [bin, "rules", "list", "--format", "json", ...rulesDirs10], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const builtIn = spawnSync(node, [bin, "rules", "list", "--format", "json"], { encoding: "utf8", maxBuffer: 1 << 28 });
  let ruleCounts;
  try {
    ruleCounts = { pack: JSON.parse(builtIn.stdout).length, copies: JSON.parse(listed.stdout).length };
  } catch {}
  const d = D("export", packSize, mix);
  const one = (await measure(d, ["scan"])).scan;
  const ten = (await measure(d, ["scan"], { variant: "x10" })).scan;
  const oneStart = (await measure(tiny, ["scan"], { runs: RUNS })).scan;
  const tenStart = (await measure(tiny, ["scan"], { variant: "x10", runs: RUNS })).scan;
  const net = (r, s) => ((r.wallS - s.wallS) / d.meta.events) * 1e6;
  results.packTimesTen = {
    dataset: d.label,
    ruleCounts,
    pack: one,
    packX10: ten,
    startupPack: oneStart,
    startupX10: tenStart,
  };
  results.packTimesTen.netUsPerEvent = { pack: net(one, oneStart), packX10: net(ten, tenStart) };
  say(`## (b) The pack ×10 (built-in + 9 copies under fresh ids via --rules), ${describe(d)}`);
  say();
  if (ruleCounts)
    say(
      `Rules listed: ${ruleCounts.pack} built-in, ${ruleCounts.copies} in the 9 copies (${ruleCounts.pack + ruleCounts.copies} loaded).`,
    );
  say();
  table(
    ["rules", "wall s", "µs/event", "start-up s (1k events)", "µs/event net of start-up", "peak RSS MB", "runs"],
    [
      ["pack", one, oneStart],
      ["pack ×10", ten, tenStart],
    ].map(([name, m, start]) => [
      name,
      f(m.wallS, 2),
      f(m.usPerEvent, 2),
      f(start.wallS, 2),
      f(net(m, start), 2),
      f(m.peakRssMB, 0),
      m.runs,
    ]),
  );
  say(
    `Cost per event ×10 / ×1: ${f(ten.usPerEvent / one.usPerEvent, 2)} gross, ${f(net(ten, tenStart) / net(one, oneStart), 2)} net of start-up.`,
  );
  say(loadNote({ one, ten, oneStart, tenStart }));
  say();
}

// (c) Mixes
say(`## (c) Mixes at ${fmtSize(mixSize)} events, export shape`);
say();
{
  const rows = [];
  for (const m of mixes) {
    const d = D("export", mixSize, m);
    // The state store's cost is shown once, side by side; here the mixes are compared cold.
    const res = await measure(
      d,
      ORDER.filter((k) => k !== "scanState"),
    );
    results.mixes.push({ mix: m, dataset: d.label, execEvents: d.meta.execEvents, bytes: d.meta.bytes, ...res });
    for (const row of contenderRows(res)) rows.push([`${m * 100}%`, ...row]);
    checkCounts(res, d);
  }
  table(["mix", ...CONTENDER_HEADER], rows, 2);
  say(
    loadNote(
      Object.assign({}, ...results.mixes.map((m, i) => Object.fromEntries(ORDER.map((k) => [`${k}${i}`, m[k]])))),
    ),
  );
  say();
}

for (const [k, why] of Object.entries(skipped)) say(`> ${k} skipped: ${why}`);
results.elapsedS = elapsed();
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
say(`Total ${elapsed().toFixed(0)} s. Results: ${outFile}`);
