/**
 * `state prune` through the CLI (a child process): --dry-run changes nothing, a prune removes
 * what is past the age and says so, a state locked by a scan is one sentence and exit 3, and a
 * prune killed with SIGKILL before its commit leaves the state as it was.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { runCli, tempDir } from "../helpers.js";
import { contents, finding, scanAt } from "./retention-helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Scans in 2020 (long past any retention), one finding resolved on the third. */
function oldState(name: string): string {
  const file = join(tmp.dir, name);
  for (let day = 0; day < 14; day++) scanAt(file, day, [finding("a"), ...(day < 2 ? [finding("b")] : [])]);
  return file;
}

const snapshot = (file: string) => {
  const c = contents(file);
  return { scans: c.scans, findings: c.findings, rows: c.rows };
};

describe("state prune", () => {
  it("--dry-run prints what it would remove and changes nothing; without it, removes it", async () => {
    const file = oldState("dry.db");
    const before = snapshot(file);
    const dry = await runCli(["state", "prune", "--state", file, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("would remove what is older than 90d");
    // "b" (resolved on day 2) and its 3 rows; day 1, named only by "b", and days 0..3 that the
    // last 10 do not cover, except day 0 where "a" was first seen: days 1, 2, 3.
    expect(dry.stdout).toContain(
      "3 scans, 6 per-scan finding rows, 1 resolved findings, 0 digest-cache entries, 0 resource writers, 0 watermarks",
    );
    expect(dry.stdout).toContain("(unchanged: --dry-run)");
    expect(snapshot(file)).toEqual(before);

    const real = await runCli(["state", "prune", "--state", file]);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain("removed what is older than 90d");
    expect(real.stdout).toMatch(/size [\d.]+ KiB -> [\d.]+ KiB/);
    const after = snapshot(file);
    expect(after.scans).toEqual(["scan-0", ...Array.from({ length: 10 }, (_, i) => `scan-${i + 4}`)]);
    expect(after.findings).toEqual({ a: "open" });
  }, 60_000);

  it("on a state a scan holds: one sentence, exit 3, nothing changed", async () => {
    const file = oldState("locked.db");
    const before = snapshot(file);
    const holder = new DatabaseSync(file);
    holder.exec("BEGIN IMMEDIATE");
    try {
      const r = await runCli(["state", "prune", "--state", file]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(
        `state file ${file} is in use by another scan (waited 5 s); let it finish, or pass another --state`,
      );
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect(snapshot(file)).toEqual(before);
  }, 60_000);

  it("killed with SIGKILL before its commit leaves the state as it was", async () => {
    const file = oldState("killed.db");
    const before = snapshot(file);
    const child = await new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [join(PACKAGE_ROOT, "bin/azure-exec-audit.js"), "state", "prune", "--state", file],
        {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, AZURE_EXEC_AUDIT_TEST_PAUSE: "pruned" },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      c.stderr?.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (stderr.includes("paused at pruned")) resolve(c);
      });
      c.on("error", reject);
      c.on("close", (code) => reject(new Error(`exited ${code} before pausing: ${stderr}`)));
    });
    await new Promise<void>((resolve) => {
      child.removeAllListeners("close");
      child.on("close", () => resolve());
      child.kill("SIGKILL");
    });
    expect(snapshot(file)).toEqual(before);
    const db = new DatabaseSync(file, { readOnly: true });
    expect(Object.values(db.prepare("PRAGMA integrity_check").get() ?? {})).toEqual(["ok"]);
    db.close();
    // The lock went with the process: a prune now runs.
    const r = await runCli(["state", "prune", "--state", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(file).scans).toHaveLength(11);
  }, 60_000);

  it("refuses an age that is not a duration", async () => {
    const r = await runCli(["state", "prune", "--state", join(tmp.dir, "none.db"), "--older-than", "soon"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("--older-than soon is not a duration");
  });
});
