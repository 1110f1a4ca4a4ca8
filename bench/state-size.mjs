// State file size on an hourly schedule (docs/performance.md, "State file size"). Run by hand,
// after `npm run build`; not part of the test suite or `npm run bench`:
//
//   node bench/state-size.mjs [--scans 1000]
//
// Drives the store API of dist/ directly (1,000 CLI runs would take far longer): the demo's
// findings, scanned once through the CLI, are recorded by one simulated scan per hour, with the
// clock advancing one hour per scan. Over time findings come and go: every day one of the demo
// findings is reported under a fresh id for two days and then resolves; each demo finding also
// drops out for a few hours once a week (resolved, then new again). The file size (database
// plus WAL, after a checkpoint) is printed at 100, 500 and 1,000 scans (and at 2,160 and 8,760,
// 90 days and a year, with --scans 8760), with no retention, with the default (90 days, last 10
// scans; 1,000 hourly scans are 41 days, so it has not started to prune yet) and with 30 days
// (`state prune --older-than 30d`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { openScanSession, RETENTION, stateSize } = await import(join(root, "dist/store/sqlite.js"));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const total = arg("--scans", 1000);
const marks = [100, 500, 1000, 2160, 8760].filter((n) => n <= total);
if (!marks.includes(total)) marks.push(total);

const dir = mkdtempSync(join(tmpdir(), "aea-state-size-"));
const report = join(dir, "demo.json");
execFileSync(process.execPath, [
  join(root, "bin/azure-exec-audit.js"),
  "scan",
  "--demo",
  "--no-state",
  "--format",
  "json",
  "-o",
  report,
]);
const demo = JSON.parse(readFileSync(report, "utf8"));
const findings = demo.findings;
// Every kind of record the demo's evidence points at was read by the demo scan.
const read = new Set(findings.flatMap((f) => f.evidence.records.map((r) => r.kind)));
const HOUR = 3_600_000;
const t0 = Date.parse("2026-01-01T00:00:00.000Z");

/** What the simulated scan `k` (0-based) reports. */
function reported(k) {
  const out = [];
  findings.forEach((f, i) => {
    // Each demo finding is gone for 3 hours once a week, at its own hour.
    const week = (k + i * 13) % 168;
    if (week >= 3) out.push(f);
  });
  // One demo finding a day under a fresh id, present for 48 hours.
  for (let d = Math.max(0, Math.floor(k / 24) - 1); d <= Math.floor(k / 24); d++) {
    const f = findings[d % findings.length];
    out.push({ ...f, id: `${f.id.slice(0, 24)}${d.toString(16).padStart(8, "0")}` });
  }
  return out;
}

function simulate(file, retention) {
  const sizes = new Map();
  for (let k = 0; k < total; k++) {
    const at = new Date(t0 + k * HOUR).toISOString();
    const s = openScanSession(file, retention);
    s.engine();
    s.apply(
      {
        ...demo.scan,
        id: `scan-${k}`,
        startedAt: at,
        finishedAt: at,
        complete: true,
        coverage: demo.scan.coverage,
        findings: reported(k).map((f) => ({ ...f })),
        rules: [],
        diagnostics: [],
      },
      read,
    );
    s.commit();
    if (marks.includes(k + 1)) {
      const db = new DatabaseSync(file);
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      const count = (t) => Number(db.prepare(`SELECT count(*) AS n FROM ${t}`).get().n);
      sizes.set(k + 1, {
        bytes: stateSize(file),
        scans: count("scans"),
        rows: count("scan_findings"),
        findings: count("findings"),
      });
      db.close();
    }
  }
  return sizes;
}

const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
console.log(`demo findings: ${findings.length}; one scan per hour`);
const runs = [
  ["no retention", false],
  [`${RETENTION.days} days (default)`, RETENTION],
  ["30 days", { days: 30, minScans: RETENTION.minScans }],
];
const results = runs.map(([name, retention], i) => [name, simulate(join(dir, `${i}.db`), retention)]);
console.log("scans  | retention: size (scans kept, per-scan finding rows, findings)");
for (const n of marks)
  console.log(
    `${String(n).padStart(6)} | ${results
      .map(([name, r]) => {
        const x = r.get(n);
        return `${name}: ${kib(x.bytes)} (${x.scans}, ${x.rows}, ${x.findings})`;
      })
      .join(" | ")}`,
  );
rmSync(dir, { recursive: true, force: true });
