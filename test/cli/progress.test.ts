/** Progress on a terminal's stderr for scans longer than a second; none otherwise or with --quiet. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { EXIT, main } from "../../src/cli/main.js";
import { Progress } from "../../src/cli/terminal.js";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runScan, type ScanProgress } from "../../src/scan/run.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("Progress", () => {
  it("draws nothing in the first second, then one line redrawn in place, erased at the end", () => {
    vi.useFakeTimers();
    let err = "";
    const p = new Progress((s) => (err += s));
    p.start();
    p.update({ records: 1200, sources: 1, matches: 3 });
    vi.advanceTimersByTime(900);
    expect(err).toBe("");
    vi.advanceTimersByTime(200);
    expect(err).toBe("\r\u001b[2K1,200 records read from 1 source(s), 3 rule matches so far (1s)");
    p.update({ records: 5000, sources: 2, matches: 7 });
    vi.advanceTimersByTime(250);
    expect(err.endsWith("\r\u001b[2K5,000 records read from 2 source(s), 7 rule matches so far (1s)")).toBe(true);
    p.stop();
    expect(err.endsWith("\r\u001b[2K")).toBe(true);
  });

  it("plain (NO_COLOR, TERM=dumb, --no-color): no escape sequence, the line overwritten with spaces", () => {
    vi.useFakeTimers();
    let err = "";
    const p = new Progress((s) => (err += s), 1000, 250, true);
    p.start();
    p.update({ records: 123456, sources: 1, matches: 3 });
    vi.advanceTimersByTime(1100);
    p.update({ records: 7, sources: 1, matches: 3 });
    vi.advanceTimersByTime(250);
    p.stop();
    expect(err).not.toContain("\u001b");
    const first = "123,456 records read from 1 source(s), 3 rule matches so far (1s)";
    const second = "7 records read from 1 source(s), 3 rule matches so far (1s)";
    expect(err).toBe(
      `\r${first}\r${second}${" ".repeat(first.length - second.length)}\r${" ".repeat(second.length)}\r`,
    );
  });

  it("a scan shorter than the delay leaves stderr untouched", () => {
    vi.useFakeTimers();
    let err = "";
    const p = new Progress((s) => (err += s));
    p.start();
    vi.advanceTimersByTime(500);
    p.stop();
    expect(err).toBe("");
  });
});

describe("the scan reports its progress", () => {
  it("records, sources and matches only grow", async () => {
    const seen: ScanProgress[] = [];
    await runScan({
      collectors: [new FilesCollector([DEMO_TENANT_DIR], { workers: 1 })],
      onProgress: (p) => seen.push({ ...p }),
    });
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.records).toBeGreaterThanOrEqual(seen[i - 1]?.records ?? 0);
      expect(seen[i]?.matches).toBeGreaterThanOrEqual(seen[i - 1]?.matches ?? 0);
    }
    expect(seen.at(-1)).toMatchObject({ sources: 1 });
    expect(seen.at(-1)?.records).toBeGreaterThan(1000);
  });

  it.each([
    ["stderr is a terminal", true, [], true],
    ["stderr is not a terminal", false, [], false],
    ["--quiet", true, ["--quiet"], false],
  ] as const)("progress on stderr when %s", async (_, tty, flags, drawn) => {
    let err = "";
    const code = await main(["scan", "--no-state", "--demo", "--format", "json", ...flags], {
      stdout: () => undefined,
      stderr: (s) => (err += s),
      isTTY: false,
      stderrIsTTY: tty,
      // Drawn at once rather than after a second, so a short scan shows whether it would be.
      progressDelayMs: 0,
    });
    expect(code).toBe(EXIT.ok);
    if (drawn) {
      expect(err).toMatch(/records read from 1 source\(s\), [\d,]+ rule matches so far/);
      expect(err.endsWith("\r\u001b[2K")).toBe(true);
    } else expect(err).toBe("");
  });
});
