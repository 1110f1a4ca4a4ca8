/** When absence means resolved (src/store/lifecycle.ts): only where the scan looked, completely. */
import { describe, expect, it } from "vitest";
import type { CoverageEntry, ScanResult } from "../../src/model/finding.js";
import { type AbsenceFacts, canResolve } from "../../src/store/lifecycle.js";

const SUB_A = "subscription aaaa";
const SUB_B = "subscription bbbb";

function entry(source: CoverageEntry["source"], scope: string, extra: Partial<CoverageEntry> = {}): CoverageEntry {
  return { source, scope, status: "complete", records: 10, ...extra };
}

function result(coverage: CoverageEntry[]): ScanResult {
  return {
    id: "s",
    startedAt: "2026-11-20T00:00:00Z",
    finishedAt: "2026-11-20T00:01:00Z",
    complete: coverage.every((c) => c.status === "complete"),
    coverage,
    findings: [],
    rules: [],
    diagnostics: [],
  };
}

const configuration: AbsenceFacts = {
  evidenceKind: "configuration",
  recordKinds: ["resource"],
  time: "2026-11-19T02:00:00Z",
  lastTime: "2026-11-19T02:00:00Z",
};
const activity: AbsenceFacts = {
  evidenceKind: "activity",
  recordKinds: ["activity"],
  time: "2026-11-19T02:00:00Z",
  lastTime: "2026-11-19T05:00:00.000Z",
};
const window = { from: "2026-11-13T00:00:00.000Z", to: "2026-11-20T00:00:00.000Z" };
const lastSeen = [entry("resources", SUB_A), entry("resources", SUB_B), entry("activity-log", SUB_A, window)];
const read = new Set(["resource", "activity"]);

describe("canResolve", () => {
  it("resolves a configuration finding when the same scopes were read completely", () => {
    expect(canResolve(configuration, lastSeen, result(lastSeen), read)).toBe(true);
  });

  it("an incomplete scan resolves nothing", () => {
    const partial = [...lastSeen, entry("registry", "registry r", { status: "partial" })];
    expect(canResolve(configuration, lastSeen, result(partial), read)).toBe(false);
  });

  it("a narrower scan (a subscription left out) resolves nothing it did not read", () => {
    const narrower = [entry("resources", SUB_A), entry("activity-log", SUB_A, window)];
    expect(canResolve(configuration, lastSeen, result(narrower), read)).toBe(false);
  });

  it("a scan that read no record of the finding's kind does not resolve it", () => {
    expect(canResolve(configuration, lastSeen, result(lastSeen), new Set(["activity"]))).toBe(false);
  });

  it("an event finding is resolved only when the window covers its first to last occurrence", () => {
    expect(canResolve(activity, lastSeen, result(lastSeen), read)).toBe(true);
    const later = [
      entry("resources", SUB_A),
      entry("resources", SUB_B),
      entry("activity-log", SUB_A, { from: "2026-11-19T03:00:00Z", to: window.to }),
    ];
    expect(canResolve(activity, lastSeen, result(later), read)).toBe(false);
    // The same instant written without milliseconds still counts as covered.
    const exact = [
      entry("resources", SUB_A),
      entry("resources", SUB_B),
      entry("activity-log", SUB_A, { from: "2026-11-19T02:00:00Z", to: "2026-11-19T05:00:00Z" }),
    ];
    expect(canResolve(activity, lastSeen, result(exact), read)).toBe(true);
  });
});
