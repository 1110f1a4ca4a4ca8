/**
 * Automatic retention, through the store API with a clock the test sets: each scan prunes, in its
 * own transaction, scans older than RETENTION.days (keeping the last RETENTION.minScans and any a
 * kept finding names) and findings resolved more than RETENTION.days ago; open findings never go.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPruneSession, RETENTION } from "../../src/store/sqlite.js";
import { tempDir } from "../helpers.js";
import { contents, DAY, finding, scanAt, T0 } from "./retention-helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("automatic retention", () => {
  it("drops scans past the retention, but keeps the last ones, the latest, and those a finding names", () => {
    expect(RETENTION).toEqual({ days: 90, minScans: 10 });
    const file = join(tmp.dir, "scans.db");
    const a = finding("a");
    for (let day = 0; day < 15; day++) scanAt(file, day, [a]);
    expect(contents(file).scans).toHaveLength(15);
    scanAt(file, 200, [a]);
    const c = contents(file);
    // Scans 0..14 are all past 90 days at day 200. The last 10 (days 6..14 and 200) stay, and
    // day 0 stays because the open finding was first seen there.
    expect(c.scans).toEqual(["scan-0", ...[6, 7, 8, 9, 10, 11, 12, 13, 14].map((d) => `scan-${d}`), "scan-200"]);
    expect(c.rows).toBe(11);
    expect(c.findings).toEqual({ a: "open" });
  });

  it("keeps everything younger than the retention, however many scans", () => {
    const file = join(tmp.dir, "young.db");
    for (let day = 0; day < 30; day++) scanAt(file, day * 2, [finding("a")]);
    expect(contents(file).scans).toHaveLength(30);
  });

  it("drops findings resolved more than the retention ago with their rows; never open ones", () => {
    const file = join(tmp.dir, "resolved.db");
    // "old" resolves on day 1, "recent" on day 51; "unseen" is on records no scan reads again,
    // so it can never be resolved and stays open whatever its age.
    scanAt(file, 0, [finding("a"), finding("old"), finding("unseen", "roleAssignment")]);
    scanAt(file, 1, [finding("a")]);
    scanAt(file, 50, [finding("a"), finding("recent")]);
    scanAt(file, 51, [finding("a")]);
    expect(contents(file).findings).toEqual({ a: "open", old: "resolved", recent: "resolved", unseen: "open" });
    scanAt(file, 120, [finding("a")]);
    const c = contents(file);
    expect(c.findings).toEqual({ a: "open", recent: "resolved", unseen: "open" });
    expect(c.rowsOf("old")).toBe(0);
    expect(c.rowsOf("recent")).toBe(2);
    expect(c.rowsOf("unseen")).toBe(1);
    // Five scans: fewer than the minimum, so all stay.
    expect(c.scans).toEqual(["scan-0", "scan-1", "scan-50", "scan-51", "scan-120"]);
  });

  it("a prune that is not committed changes nothing (the scan's transaction, or --dry-run)", () => {
    const file = join(tmp.dir, "dry.db");
    for (let day = 0; day < 12; day++) scanAt(file, day, [finding("a"), ...(day < 2 ? [finding("b")] : [])]);
    const before = contents(file);
    const s = openPruneSession(file);
    const counts = s.prune(0, new Date(T0 + 1000 * DAY));
    // "b": its 3 rows (open, open, resolved); then day 1, which only "b" named, with its row for "a".
    expect(counts).toEqual({ scans: 1, findingRows: 4, resolvedFindings: 1, digests: 0, writers: 0, watermarks: 0 });
    s.abandon();
    const after = contents(file);
    expect({ ...after, rowsOf: undefined }).toEqual({ ...before, rowsOf: undefined });
  });

  it("state prune with a shorter age keeps only the minimum number of scans (and the ones findings name)", () => {
    const file = join(tmp.dir, "prune.db");
    for (let day = 0; day < 20; day++) scanAt(file, day, [finding("a")]);
    const s = openPruneSession(file);
    const counts = s.prune(1 * DAY, new Date(T0 + 21 * DAY));
    s.commit();
    expect(counts).toEqual({ scans: 9, findingRows: 9, resolvedFindings: 0, digests: 0, writers: 0, watermarks: 0 });
    expect(contents(file).scans).toEqual(["scan-0", ...Array.from({ length: 10 }, (_, i) => `scan-${i + 10}`)]);
  });
});
