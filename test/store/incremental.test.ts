/** Watermarks and the overlap in the state store (src/store/sqlite.ts `incremental`), scan by scan. */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES } from "../../src/model/diagnostics.js";
import type { CoverageEntry, ScanResult } from "../../src/model/finding.js";
import { canResolve } from "../../src/store/lifecycle.js";
import { openScanSession } from "../../src/store/sqlite.js";
import { tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const HOUR = 3_600_000;
const A = "subscription 091c6054-988d-4631-9070-418c6f76a5fa";
const B = "subscription 8B1811F6-5813-475A-8054-5D2939BD681F";

function result(id: string, coverage: CoverageEntry[]): ScanResult {
  return {
    id,
    startedAt: "2026-11-20T10:00:00Z",
    finishedAt: "2026-11-20T10:01:00Z",
    complete: coverage.every((c) => c.status === "complete"),
    coverage,
    findings: [],
    rules: [],
    diagnostics: [],
  };
}
const read = (scope: string, to: string, status: CoverageEntry["status"] = "complete"): CoverageEntry => ({
  source: "activity-log",
  scope,
  from: "2026-11-13T10:00:00.000Z",
  to,
  status,
  records: 5,
});

describe("incremental state", () => {
  const file = join(tmp.dir, "inc.db");

  it("has no watermark before a scope was read in full; a complete read sets one, a failed one does not", () => {
    const s1 = openScanSession(file);
    s1.engine();
    const inc1 = s1.incremental(HOUR, true);
    expect(inc1.resume("activity-log", A)).toBeUndefined();
    inc1.until(new Date("2026-11-20T10:00:00.000Z"));
    inc1.read("in-overlap", "2026-11-20T09:30:00.000Z");
    inc1.read("before-overlap", "2026-11-20T08:59:59.000Z");
    s1.apply(
      result("s1", [read(A, "2026-11-20T10:00:00.000Z"), read(B, "2026-11-20T10:00:00.000Z", "failed")]),
      new Set(),
    );
    s1.commit();

    const s2 = openScanSession(file);
    s2.engine();
    const inc2 = s2.incremental(HOUR, true);
    expect(inc2.resume("activity-log", A)).toEqual({
      since: new Date("2026-11-20T09:00:00.000Z"),
      watermark: "2026-11-20T10:00:00.000Z",
    });
    expect(inc2.resume("workspace", A)).toBeUndefined();
    expect(inc2.resume("activity-log", B)).toBeUndefined();
    expect(inc2.seen("in-overlap")).toBe(true);
    expect(inc2.seen("before-overlap")).toBe(false);
    // Resuming off (an explicit --since): the window as given, nothing skipped.
    const s2b = s2.incremental(HOUR, false);
    expect(s2b.resume("activity-log", A)).toBeUndefined();
    expect(s2b.seen("in-overlap")).toBe(false);
    // B read in full now; A failed: A keeps its watermark, B gets one (scope compared without case).
    s2.apply(
      result("s2", [read(A, "2026-11-20T11:00:00.000Z", "partial"), read(B, "2026-11-20T11:00:00.000Z")]),
      new Set(),
    );
    s2.commit();

    const s3 = openScanSession(file);
    s3.engine();
    const inc3 = s3.incremental(30 * 60_000, true);
    expect(inc3.resume("activity-log", A)?.watermark).toBe("2026-11-20T10:00:00.000Z");
    expect(inc3.resume("activity-log", B.toLowerCase())?.since).toEqual(new Date("2026-11-20T10:30:00.000Z"));
    s3.abandon();
  });

  it("a scan that skipped overlap events resolves no finding made of events", () => {
    const facts = {
      evidenceKind: "activity" as const,
      recordKinds: ["activity"],
      time: "2026-11-20T09:10:00Z",
      lastTime: "2026-11-20T09:10:00Z",
    };
    const cov = [read(A, "2026-11-20T11:00:00.000Z")];
    const r = result("s", cov);
    expect(canResolve(facts, cov, r, new Set(["activity"]))).toBe(true);
    const skipped = {
      ...r,
      diagnostics: [{ code: DIAGNOSTIC_CODES.overlapSkipped, message: "2 Activity Log event(s) … skipped" }],
    };
    expect(canResolve(facts, cov, skipped, new Set(["activity"]))).toBe(false);
  });
});
