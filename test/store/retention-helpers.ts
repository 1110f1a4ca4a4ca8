/** Scans written straight through the store API (no CLI), with a clock the test sets. */
import { DatabaseSync } from "node:sqlite";
import type { Finding, ScanResult } from "../../src/model/finding.js";
import { openScanSession } from "../../src/store/sqlite.js";

export const DAY = 86_400_000;
export const T0 = Date.parse("2020-01-01T00:00:00.000Z");

/** A configuration finding on `kind` records: resolvable only by a scan that read that kind. */
export function finding(id: string, kind = "resource"): Finding {
  return {
    id,
    ruleId: "rule-1",
    title: `finding ${id}`,
    severity: "high",
    resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${id}`,
    principal: { id: "p" },
    time: new Date(T0).toISOString(),
    techniques: [],
    evidence: { kind: "configuration", records: [{ kind, id: `r-${id}` }] },
  } as unknown as Finding;
}

/** One complete scan of the same scope at `T0 + day` days, reporting `findings`; reads resources only. */
export function scanAt(file: string, day: number, findings: readonly Finding[]): void {
  const at = new Date(T0 + day * DAY).toISOString();
  const result = {
    id: `scan-${day}`,
    startedAt: at,
    finishedAt: at,
    complete: true,
    coverage: [{ source: "files", scope: "tenant", status: "complete", records: 1 }],
    findings: findings.map((f) => ({ ...f })),
    rules: [],
    diagnostics: [],
  } as unknown as ScanResult;
  const s = openScanSession(file);
  s.apply(result, new Set(["resource"]));
  s.commit();
}

/** What the file holds, straight from SQLite. */
export function contents(file: string): {
  scans: string[];
  findings: Record<string, string>;
  rows: number;
  rowsOf: (finding: string) => number;
} {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const scans = db
      .prepare("SELECT id FROM scans ORDER BY seq")
      .all()
      .map((r) => r.id as string);
    const findings = Object.fromEntries(
      db
        .prepare("SELECT id, status FROM findings ORDER BY id")
        .all()
        .map((r) => [r.id as string, r.status as string]),
    );
    const rows = Number(db.prepare("SELECT count(*) AS n FROM scan_findings").get()?.n);
    const perFinding = new Map(
      db
        .prepare("SELECT finding, count(*) AS n FROM scan_findings GROUP BY finding")
        .all()
        .map((r) => [r.finding as string, Number(r.n)]),
    );
    return { scans, findings, rows, rowsOf: (f) => perFinding.get(f) ?? 0 };
  } finally {
    db.close();
  }
}
