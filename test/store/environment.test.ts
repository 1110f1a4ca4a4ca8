/**
 * The state store where the machine gets in the way: a full disk (a real ENOSPC, on a small
 * tmpfs mounted for the test; skipped where mounting is not permitted) and a Node.js without
 * node:sqlite (the machine's own Node 20 running the bin, as a user who types `node bin/…` does).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { runCli, tempDir } from "../helpers.js";

const BIN = join(PACKAGE_ROOT, "bin/azure-exec-audit.js");
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A tmpfs of `kib` KiB at a fresh directory, or undefined where mounting is not permitted. */
function smallDisk(kib: number): string | undefined {
  const dir = join(tmp.dir, `disk-${kib}`);
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    return undefined;
  }
}

/** Writes zeros until the file system says it is full. */
function fill(file: string): void {
  const fd = openSync(file, "w");
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    closeSync(fd);
  }
}

const disk = smallDisk(8192);
afterAll(() => {
  if (disk) spawnSync("umount", [disk]);
});

describe.skipIf(disk === undefined)("a full disk (ENOSPC)", () => {
  it("fails the scan with one sentence, leaves the state as it was, and the next scan works", async () => {
    const dir = disk as string;
    const state = join(dir, "state.db");
    const report = join(tmp.dir, "r.json");
    const first = await runCli(["scan", "--demo", "--state", state, "--format", "json", "-o", report]);
    expect(first.code, first.stderr).toBe(0);
    const firstId = (JSON.parse(readFileSync(report, "utf8")) as { scan: { id: string } }).scan.id;
    const filler = join(dir, "filler");
    fill(filler);
    const full = await runCli(["scan", "--demo", "--state", state, "--format", "json", "-o", join(tmp.dir, "r2.json")]);
    expect(full.code).toBe(3);
    expect(full.stderr).toMatch(
      /state file .*state\.db cannot be written: the disk is full; the state is as it was before this scan/,
    );
    expect(full.stderr).not.toMatch(/\n\s+at /);
    rmSync(filler);
    // The state holds the first scan only, intact.
    const list = await runCli(["findings", "diff", "--state", state, "--format", "json"]);
    expect(list.code).toBe(3);
    expect(list.stderr).toContain("holds one scan");
    const again = await runCli(["scan", "--demo", "--state", state, "--format", "json", "-o", report]);
    expect(again.code, again.stderr).toBe(0);
    const r = JSON.parse(readFileSync(report, "utf8")) as {
      scan: { previousScanId?: string };
      findings: { status?: string }[];
    };
    expect(r.scan.previousScanId).toBe(firstId);
    expect(r.findings.every((f) => f.status === "open")).toBe(true);
  }, 120_000);
});

/** The machine's own Node.js, when it is one without node:sqlite. */
function oldNode(): string | undefined {
  for (const node of ["/usr/bin/node", "/usr/local/bin/node"]) {
    if (!existsSync(node)) continue;
    const v = spawnSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
    const [major = 0, minor = 0] = v.split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 5)) return node;
  }
  return undefined;
}
const node20 = oldNode();

describe.skipIf(node20 === undefined)("a Node.js without node:sqlite", () => {
  it("`node bin/azure-exec-audit.js scan --demo` says what to do in one sentence (exit 3)", () => {
    const r = spawnSync(node20 as string, [BIN, "scan", "--demo", "--state", join(tmp.dir, "old", "s.db")], {
      encoding: "utf8",
      cwd: tmp.dir,
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toMatch(
      /^azure-exec-audit: the state store needs Node\.js 22\.5 or later \(node:sqlite\); this is Node\.js 20\.[\d.]+: run azure-exec-audit through npx or npm in the project \(they use its Node 24\), or pass --no-state$/,
    );
  });
});
