/**
 * The table fits the terminal: snapshots of the demo at 80, 120 and 200 columns (no line wider
 * than the terminal, cells wrapped rather than cut), --wide, resource paths relative to the
 * subscription, notes under the findings, "config as of" times, and the colour switches.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT, main } from "../../src/cli/main.js";
import { colorAllowed, terminalWidth } from "../../src/cli/terminal.js";
import { FilesCollector } from "../../src/collectors/files/index.js";
import type { ScanResult } from "../../src/model/finding.js";
import { resourcePath, tableFormat, wrap } from "../../src/outputs/formats/table.js";
import { renderToString } from "../../src/outputs/index.js";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runScan } from "../../src/scan/run.js";
import { ESC, makeResult } from "./fixtures.js";

const SNAPSHOTS = join(import.meta.dirname, "__snapshots__");

async function demoResult(): Promise<ScanResult> {
  const { result } = await runScan({
    collectors: [new FilesCollector([DEMO_TENANT_DIR], { workers: 1 })],
    now: () => new Date("2026-11-20T00:00:00Z"),
    newId: () => "demo-scan",
  });
  return result;
}

const width = (l: string) => Array.from(l).length;

/** The text of one column, per row: the row's lines cut at the column's place, joined. */
function columnText(text: string, header: string): string[] {
  const lines = text.split("\n");
  const h = lines.findIndex((l) => l.startsWith("SEVERITY"));
  const head = lines[h] as string;
  const start = head.indexOf(header);
  const next = head.slice(start + header.length).search(/\S/);
  const end = next < 0 ? undefined : start + header.length + next;
  const out: string[] = [];
  for (const line of lines.slice(h + 2)) {
    if (line === "") break;
    if (/^\s+↳/.test(line)) continue;
    const cell = Array.from(line).slice(start, end).join("").trim();
    if (/^\S/.test(line)) out.push(cell);
    else out[out.length - 1] += cell;
  }
  return out;
}

describe("the demo table at a terminal's width", () => {
  it.each([80, 120, 200])("%i columns: no line wider, nothing of a cell cut", async (columns) => {
    const result = await demoResult();
    const text = await renderToString(tableFormat, result, { toolVersion: "0.0.0", color: false, width: columns });
    for (const line of text.split("\n")) expect(width(line), line).toBeLessThanOrEqual(columns);
    // Every resource path and principal id is there in full once each row's wrapped cells are joined.
    const cells = columnText(text, "RESOURCE").concat(columnText(text, "PRINCIPAL"));
    for (const f of result.findings) {
      expect(cells).toContain(resourcePath(f.resourceId));
      if (f.principal.id) expect(cells).toContain(f.principal.id);
    }
    await expect(text).toMatchFileSnapshot(join(SNAPSHOTS, `demo-table-${columns}.txt`));
  });

  it("--wide: one line per row, ids in full, whatever the width", async () => {
    const result = await demoResult();
    const text = await renderToString(tableFormat, result, {
      toolVersion: "0.0.0",
      color: false,
      wide: true,
      width: 80,
    });
    const lines = text.split("\n");
    const header = lines.findIndex((l) => l.startsWith("SEVERITY"));
    const rows = lines.slice(header + 2, lines.indexOf("", header));
    // A row, then its detail line: no continuation lines.
    expect(rows.filter((l) => /^\S/.test(l))).toHaveLength(result.findings.length);
    expect(rows.filter((l) => !/^\S/.test(l)).every((l) => /^\s+↳/.test(l))).toBe(true);
    expect(text).toContain("a442edc7-37ba-4cef-a407-f093bfc1c697");
  });
});

describe("cells", () => {
  it("resource paths are relative to the subscription, every segment kept", () => {
    expect(
      resourcePath(
        "/subscriptions/s1/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/x",
      ),
    ).toBe("rg-app/Microsoft.Compute/virtualMachines/vm1/runCommands/x");
    expect(resourcePath("/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/ra1")).toBe(
      "(subscription)/Microsoft.Authorization/roleAssignments/ra1",
    );
    expect(resourcePath("/subscriptions/s1")).toBe("(subscription)");
    expect(resourcePath("contosoprodacr.azurecr.io/tools/updater@sha256:abc")).toBe(
      "contosoprodacr.azurecr.io/tools/updater@sha256:abc",
    );
  });

  it("wrap breaks at spaces, then separators, then anywhere, never past the width", () => {
    expect(wrap("2026-11-19 02:04:11Z", 10)).toEqual(["2026-11-19", "02:04:11Z"]);
    expect(wrap("rg-app/Microsoft.Compute/virtualMachines/vm1", 20)).toEqual([
      "rg-app/Microsoft.",
      "Compute/",
      "virtualMachines/vm1",
    ]);
    expect(wrap("a442edc737ba4cefa407f093bfc1c697", 12).every((l) => l.length <= 12)).toBe(true);
  });

  it("a configuration time the Activity Log could not date is marked 'config as of'", async () => {
    const { result } = makeResult();
    const f = result.findings.find((x) => x.evidence.kind === "configuration");
    if (f?.evidence.kind !== "configuration") throw new Error("fixture has a configuration finding");
    f.evidence.timeSource = "scan (no event ties this configuration to a time)";
    const text = await renderToString(tableFormat, result, { toolVersion: "0", color: false, width: 200 });
    expect(text).toMatch(/config as of 2024-05-01/);
  });

  it("notes (skipped rules, rules short of history) come right under the findings", async () => {
    const { result } = makeResult();
    result.diagnostics = [
      { code: "rule/skipped", message: "rule skipped: my-rules/x.yml:3: unknown modifier 'sounds_like'" },
      { code: "rule/needs-history", message: "rule New IP range needs 7 days of history; this scan has 1" },
      { code: "input/record-unreadable", message: "activity.jsonl:9: not JSON" },
    ];
    const text = await renderToString(tableFormat, result, { toolVersion: "0", color: false, width: 120 });
    expect(text.split("\n").slice(0, 4).join(" ")).toContain("2 notes");
    const notes = text.indexOf("Notes (2):");
    expect(notes).toBeGreaterThan(text.lastIndexOf("↳"));
    expect(notes).toBeLessThan(text.indexOf("Coverage:"));
    expect(text).toContain("  - rule skipped: my-rules/x.yml:3: unknown modifier 'sounds_like'");
    // Unreadable records are in the Coverage section already.
    expect(text).not.toContain("activity.jsonl:9: not JSON");
  });
});

describe("colour and width come from the terminal and the environment", () => {
  it("colorAllowed: --no-color, then NO_COLOR, then FORCE_COLOR, then TERM=dumb, then the terminal", () => {
    expect(colorAllowed({}, true, undefined)).toBe(true);
    expect(colorAllowed({}, false, undefined)).toBe(false);
    expect(colorAllowed({ NO_COLOR: "1" }, true, undefined)).toBe(false);
    expect(colorAllowed({ NO_COLOR: "" }, true, undefined)).toBe(true);
    expect(colorAllowed({ TERM: "dumb" }, true, undefined)).toBe(false);
    expect(colorAllowed({ FORCE_COLOR: "1" }, false, undefined)).toBe(true);
    expect(colorAllowed({ FORCE_COLOR: "0" }, true, undefined)).toBe(false);
    expect(colorAllowed({ FORCE_COLOR: "1", NO_COLOR: "1" }, true, undefined)).toBe(false);
    expect(colorAllowed({ FORCE_COLOR: "1" }, true, false)).toBe(false);
  });

  it("terminalWidth: the terminal's columns, else COLUMNS, else none", () => {
    expect(terminalWidth({}, 132)).toBe(132);
    expect(terminalWidth({ COLUMNS: "90" }, undefined)).toBe(90);
    expect(terminalWidth({ COLUMNS: "wide" }, undefined)).toBeUndefined();
    expect(terminalWidth({}, undefined)).toBeUndefined();
  });

  async function table(env: NodeJS.ProcessEnv, tty: boolean, ...flags: string[]): Promise<string> {
    let stdout = "";
    const code = await main(["scan", "--no-state", "--demo", "--format", "table", ...flags], {
      stdout: (s) => (stdout += s),
      stderr: () => undefined,
      isTTY: tty,
      columns: 100,
      env,
    });
    expect(code).toBe(EXIT.ok);
    return stdout;
  }

  it("NO_COLOR=1 and TERM=dumb give no escape sequence on a terminal; FORCE_COLOR=1 colours a pipe", async () => {
    expect(await table({}, true)).toContain(ESC);
    expect(await table({ NO_COLOR: "1" }, true)).not.toContain(ESC);
    expect(await table({ TERM: "dumb" }, true)).not.toContain(ESC);
    expect(await table({ FORCE_COLOR: "1" }, false)).toContain(ESC);
    expect(await table({ FORCE_COLOR: "1" }, false, "--no-color")).not.toContain(ESC);
  });

  it("a terminal's columns fit the table; COLUMNS does when stdout is not one", async () => {
    const tty = await table({ NO_COLOR: "1" }, true);
    expect(Math.max(...tty.split("\n").map(width))).toBeLessThanOrEqual(100);
    const piped = await table({ COLUMNS: "80" }, false);
    expect(Math.max(...piped.split("\n").map(width))).toBeLessThanOrEqual(80);
  });
});
