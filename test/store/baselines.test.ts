/**
 * First-seen baselines kept in the state: a short window that alone "needs 7 days of history"
 * gets it from the scans before, when their Activity Log reaches its window without a gap.
 * The demo split in two through the CLI: its first four weeks of Activity Log, then the last
 * four days with everything else (snapshot window moved to match).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withHistory } from "../../src/engine/engine.js";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runCli, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The attack's first-seen finding in the whole demo (test/fixtures/demo-findings.json). */
const NEW_IP_RANGE_RULE = "Execution-capable ARM operation from an IP range new for this identity";
const SPLIT = "2026-11-17";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The export's hourly blobs (the demo's other subscription is a REST page, left in the late half whole). */
const hourly = (f: string): boolean => f.endsWith("PT1H.json");

/** The day of an export blob from its path (…/y=2026/m=11/d=17/h=…/PT1H.json). */
function day(path: string): string {
  const m = /y=(\d{4})\/m=(\d{2})\/d=(\d{2})\//.exec(path);
  if (!m) throw new Error(`no day in ${path}`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

interface Report {
  scan: { notes?: string[] };
  findings: { id: string; title: string; status?: string; evidence: { kind: string } }[];
}

const early = join(tmp.dir, "early");
const late = join(tmp.dir, "late");

beforeAll(() => {
  // Early: Activity Log up to and including the split day (so the two overlap: no gap).
  for (const f of files(join(DEMO_TENANT_DIR, "activity")).filter(hourly)) {
    if (day(f) > SPLIT) continue;
    const to = join(early, relative(DEMO_TENANT_DIR, f));
    mkdirSync(dirname(to), { recursive: true });
    cpSync(f, to);
  }
  // Late: the whole snapshot from the split day on.
  cpSync(DEMO_TENANT_DIR, late, { recursive: true });
  for (const f of files(join(late, "activity")).filter(hourly)) if (day(f) < SPLIT) rmSync(f);
  const snapshot = JSON.parse(readFileSync(join(late, "snapshot.json"), "utf8"));
  snapshot.window.from = `${SPLIT}T00:00:00Z`;
  writeFileSync(join(late, "snapshot.json"), JSON.stringify(snapshot));
});

async function scan(input: string, state: string[]): Promise<Report> {
  const r = await runCli(["scan", "--input", input, ...state, "--format", "json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

const needsHistory = (r: Report) => (r.scan.notes ?? []).filter((n) => n.includes("days of history"));
const newIpRange = (r: Report) => r.findings.filter((f) => f.title === NEW_IP_RANGE_RULE);

describe("first-seen baselines in the state", () => {
  it("a short window alone needs history and flags nothing first-seen", async () => {
    const alone = await scan(late, ["--no-state"]);
    expect(needsHistory(alone).length).toBeGreaterThan(0);
    expect(newIpRange(alone)).toEqual([]);
  });

  it("after a scan of the weeks before, the same window has the history and finds the attack", async () => {
    const state = ["--state", join(tmp.dir, "state.db")];
    await scan(early, state);
    const withState = await scan(late, state);
    expect(needsHistory(withState)).toEqual([]);
    const [finding] = newIpRange(withState);
    expect(finding?.status).toBe("new");
    // The same finding the whole demo gives in one scan.
    const whole = await scan(DEMO_TENANT_DIR, ["--no-state"]);
    expect(newIpRange(whole).map((f) => f.id)).toEqual([finding?.id]);
    expect(withState.findings.map((f) => f.id).sort()).toEqual(whole.findings.map((f) => f.id).sort());
    // Scanned again: the same finding, open, not raised as new.
    const again = await scan(late, state);
    expect(newIpRange(again).map((f) => `${f.id} ${f.status}`)).toEqual([`${finding?.id} open`]);
  }, 60_000);
});

describe("withHistory", () => {
  const history = { from: "2026-10-01T00:00:00Z", to: "2026-10-10T00:00:00Z" };
  it("learning starts at the history when it reaches the window", () => {
    expect(withHistory("2026-10-10T00:00:00.000Z", history)).toBe(history.from);
    expect(withHistory("2026-10-05T00:00:00Z", history)).toBe(history.from);
  });
  it("a gap, or a history that starts no earlier, leaves the window's own start", () => {
    expect(withHistory("2026-10-10T00:00:01Z", history)).toBe("2026-10-10T00:00:01Z");
    expect(withHistory("2026-09-30T00:00:00Z", history)).toBe("2026-09-30T00:00:00Z");
    expect(withHistory(undefined, history)).toBeUndefined();
  });
});
