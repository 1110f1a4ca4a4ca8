/** State files the store must refuse: one sentence, exit 3, and the file left byte for byte as it was. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/store/sqlite.js";
import { CAN_RUN_AS_NOBODY, runCli, runCliAsNobody, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const scan = (state: string) => runCli(["scan", "--demo", "--state", state, "--format", "json", "-o", "/dev/null"]);

/** Exit 3 with exactly one line on stderr matching `sentence`, and the file unchanged. */
async function refused(state: string, sentence: RegExp): Promise<void> {
  const before = readFileSync(state);
  for (const r of [await scan(state), await runCli(["findings", "list", "--state", state])]) {
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(sentence);
  }
  expect(readFileSync(state).equals(before)).toBe(true);
}

describe("state files that are not ours", () => {
  it("a file that is not SQLite", async () => {
    const state = tmp.write("text.db", "these are notes, not a database\n".repeat(200));
    await refused(state, /is not an azure-exec-audit state file \(not an SQLite database\); it was left untouched/);
  });

  it("someone else's SQLite database", async () => {
    const state = join(tmp.dir, "foreign.db");
    const db = new DatabaseSync(state);
    db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
    db.close();
    await refused(state, /is an SQLite database but not an azure-exec-audit state file; it was left untouched/);
  });

  it("a state written by a newer schema", async () => {
    const state = join(tmp.dir, "newer.db");
    expect((await scan(state)).code).toBe(0);
    const db = new DatabaseSync(state);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    await refused(state, new RegExp(`has schema version ${SCHEMA_VERSION + 1}, written by a newer azure-exec-audit`));
  });

  it("a state file whose pages are garbage", async () => {
    const state = join(tmp.dir, "corrupt.db");
    expect((await scan(state)).code).toBe(0);
    const db = new DatabaseSync(state);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    const bytes = readFileSync(state);
    // Keep the header (so it still looks like our SQLite file) and overwrite every page after the first.
    bytes.fill(0xa5, 4096);
    writeFileSync(state, bytes);
    await refused(state, /state file .*corrupt\.db is (corrupted|not an azure-exec-audit state file)/);
  });
});

describe("state paths that cannot be used", () => {
  it("a directory given as the state file", async () => {
    const dir = join(tmp.dir, "a-directory");
    mkdirSync(dir);
    const r = await scan(dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`azure-exec-audit: state file ${dir} is a directory; pass a file path to --state\n`);
  });

  it("a state file under a path that is a file", async () => {
    const file = tmp.write("plain-file", "x");
    const r = await scan(join(file, "state.db"));
    expect(r.code).toBe(3);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toContain(`state file ${join(file, "state.db")}`);
  });

  // Root writes through file modes, so as root the scans run as nobody (setpriv drops to it).
  const asOther = process.getuid?.() !== 0 || CAN_RUN_AS_NOBODY;
  it.runIf(asOther)("a read-only state file and a read-only directory", async () => {
    const { chmodSync } = await import("node:fs");
    const dir = join(tmp.dir, "ro");
    const state = join(dir, "state.db");
    const run = async (file: string) => {
      const args = ["scan", "--demo", "--state", file, "--format", "json", "-o", "/dev/null"];
      if (process.getuid?.() !== 0) return runCli(args);
      const r = runCliAsNobody(args, tmp.dir);
      return { code: r.status, stderr: r.stderr };
    };
    chmodSync(tmp.dir, 0o755);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    expect((await run(state)).code).toBe(0);
    chmodSync(state, 0o444);
    const r = await run(state);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot be written (read-only file or directory)");
    chmodSync(state, 0o666);
    chmodSync(dir, 0o555);
    const d = await run(state);
    chmodSync(dir, 0o777);
    expect(d.code).toBe(3);
    expect(d.stderr).toContain("cannot be written (read-only file or directory)");
  });

  it("findings list and diff without a state, or with one scan", async () => {
    const missing = join(tmp.dir, "none", "state.db");
    const list = await runCli(["findings", "list", "--state", missing]);
    expect(list.code).toBe(3);
    expect(list.stderr).toContain(`no state file at ${missing}`);
    const one = join(tmp.dir, "one.db");
    expect((await scan(one)).code).toBe(0);
    const diff = await runCli(["findings", "diff", "--state", one]);
    expect(diff.code).toBe(3);
    expect(diff.stderr).toContain("holds one scan; findings diff needs two");
  });
});
