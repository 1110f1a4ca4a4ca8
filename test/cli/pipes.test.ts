/**
 * Pipes and signals, through the bin as a user runs it: a reader that stops early (`| head`)
 * ends the output quietly with the exit code the scan earned; SIGINT and SIGTERM leave no report
 * half written (reports are temporary files renamed when complete).
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const BIN = join(PACKAGE_ROOT, "bin/azure-exec-audit.js");

// Enough findings (one per VM) that every format's report is far larger than a pipe's buffer.
const big = tmp.write(
  "big.jsonl",
  Array.from({ length: 3000 }, (_, i) =>
    JSON.stringify({
      time: "2026-11-05T10:00:00Z",
      resourceId: `/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM${i}`,
      operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
      category: "Administrative",
      resultType: "Start",
      correlationId: `rc${i}`,
    }),
  ).join("\n"),
);

/** Runs `node bin <args> | head -1` in a real shell; the bin's own exit status and stderr. */
function throughHead(args: string): { code: number; stderr: string; head: string } {
  const err = join(tmp.dir, "stderr.txt");
  const r = spawnSync(
    "bash",
    ["-c", `"${process.execPath}" "${BIN}" ${args} 2>"${err}" | head -1; echo "rc=\${PIPESTATUS[0]}"`],
    { cwd: tmp.dir, encoding: "utf8", env: { PATH: process.env.PATH, HOME: tmp.dir } },
  );
  const m = /rc=(\d+)\s*$/.exec(r.stdout);
  return { code: Number(m?.[1]), stderr: readFileSync(err, "utf8"), head: r.stdout.split("\n")[0] ?? "" };
}

describe("a reader that stops early (| head)", () => {
  it("rules list | head -1: exit 0, nothing on stderr", () => {
    const r = throughHead("rules list");
    expect(r.head).toMatch(/^LEVEL/);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it.each(["table", "json", "sarif"])("scan --format %s | head -1: exit 0, nothing on stderr", (format) => {
    const r = throughHead(`scan --no-state --input big.jsonl --format ${format}`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("scan --fail-on medium | head -1: exit 1, and the reason, not a stack trace", () => {
    const r = throughHead("scan --no-state --input big.jsonl --format json --fail-on medium");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("azure-exec-audit: 3000 findings at or above medium (3000 medium): see the report\n");
  });

  it("a scan whose report was cut short commits nothing to the state", () => {
    expect(throughHead("scan --state s.db --input big.jsonl --format json").code).toBe(0);
    const list = spawnSync(process.execPath, [BIN, "findings", "list", "--state", "s.db", "--format", "json"], {
      cwd: tmp.dir,
      encoding: "utf8",
    });
    expect(list.status).toBe(3);
    expect(list.stderr).toBe("azure-exec-audit: state file s.db holds no scan yet\n");
  });
});

describe("SIGINT and SIGTERM", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s half-way through a report file leaves the previous file and no temporary one",
    async (signal, exit) => {
      const dir = tmp.write(`sig-${signal}/.keep`, "").replace(/\/\.keep$/, "");
      writeFileSync(join(dir, "report.sarif"), "previous");
      const child = spawn(
        process.execPath,
        [BIN, "scan", "--no-state", "--input", big, "--format", "sarif", "--output", join(dir, "report.sarif")],
        {
          env: { PATH: process.env.PATH, AZURE_EXEC_AUDIT_TEST_PAUSE: "reporting" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      await new Promise<void>((resolve) =>
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          if (stderr.includes("paused at reporting")) resolve();
        }),
      );
      // Half a report exists, as a temporary file beside the target.
      expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toHaveLength(1);
      const code = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      child.kill(signal);
      expect(await code).toBe(exit);
      expect(stderr).toContain(`interrupted (${signal})`);
      expect(readFileSync(join(dir, "report.sarif"), "utf8")).toBe("previous");
      expect(readdirSync(dir).sort()).toEqual([".keep", "report.sarif"]);
    },
  );
});
