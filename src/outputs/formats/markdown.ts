/**
 * `--format markdown`: the scan as GitHub-flavoured Markdown, for a pull-request comment, a
 * ticket or the GitHub Action's job summary (which calls `renderMarkdown` with its own size).
 *
 * Every string from the data is either escaped prose (`escapeMarkdown`: no emphasis, link,
 * HTML, mention, issue reference or autolink) or a code span / fenced block (`markdownCode`,
 * `markdownCodeBlock`), after the redacted, capped views of common.ts. Nothing here writes HTML.
 *
 * The text stays under `maxBytes` (UTF-8): the head (counts, techniques) and the coverage
 * section are always there, findings rows and then evidence details are added while they fit,
 * and a closing note says how many were left out and where the whole report is.
 */

import type { ChainStep, CoverageEntry, Finding, ScanResult, Severity } from "../../model/finding.js";
import { UsageError } from "../../util/errors.js";
import { cap, escapeMarkdown, markdownCode, markdownCodeBlock } from "../../util/text.js";
import { countBySeverity, principalLabel, safeCoverage, safeFinding, safeText, shortResource } from "../common.js";
import {
  chainSummary,
  isNew,
  newFirst,
  SEVERITIES_DESC,
  severityCounts,
  statusLabel,
  subscriptionOf,
  techniqueRows,
} from "../digest.js";
import type { OutputFormat } from "../registry.js";

/** Fits a pull-request or issue comment (65,536 characters; a character is at least one byte). */
export const DEFAULT_MARKDOWN_MAX_BYTES = 65_000;
/** For the GitHub job summary, whose limit is 1 MiB per step: well under it. */
export const JOB_SUMMARY_MAX_BYTES = 512 * 1024;
/** Below this the head alone may not fit; renderMarkdown refuses it. */
export const MIN_MARKDOWN_MAX_BYTES = 2048;

export interface MarkdownOptions {
  /** Largest result in UTF-8 bytes (default DEFAULT_MARKDOWN_MAX_BYTES). */
  maxBytes?: number;
  toolVersion?: string;
  /**
   * Where the whole report is, said in the closing note when something was left out (for the
   * action: "the azure-exec-audit-report artifact of this run"). Shown as escaped text.
   */
  fullReport?: string;
}

const SEVERITY_MARK: Readonly<Record<Severity, string>> = {
  critical: "🟥",
  high: "🟧",
  medium: "🟨",
  low: "🟦",
  informational: "⬜",
};

/** Findings rows at most, whatever the budget (a table longer than this is not read). */
const MAX_ROWS = 1000;
/** Technique rows at most. */
const MAX_TECHNIQUES = 60;
/** Coverage problems listed at most; the rest are counted. */
const MAX_COVERAGE_LINES = 40;
/** Payload text shown per payload in the details. */
const MAX_PAYLOAD = 4096;
/** Chain steps shown per chain. */
const MAX_STEPS = 20;
/** Longest cell text (before escaping). */
const CELL = 200;

const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

function prose(s: string, max = CELL): string {
  return escapeMarkdown(safeText(s, max));
}

function code(s: string, max = CELL, inTable = false): string {
  return markdownCode(safeText(s, max), { inTable });
}

const cell = (s: string, max = CELL): string => code(s, max, true);

function severityCell(s: Severity): string {
  return `${SEVERITY_MARK[s]} ${s}`;
}

function displayTime(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(t);
  return m ? `${m[1]} ${m[2]}Z` : t;
}

function findingRow(n: number, f: Finding): string {
  const techniques = f.attack.techniques.length > 0 ? f.attack.techniques.map((t) => cell(t, 32)).join(" ") : "–";
  return `| ${n} | ${severityCell(f.severity)} | ${statusLabel(f)} | ${techniques} | ${prose(f.title)} | ${cell(shortResource(f.resourceId))} | ${cell(principalLabel(f.principal))} | ${cell(displayTime(f.time), 40)} |`;
}

const FINDINGS_HEADER = [
  "| # | Severity | Status | Technique | Finding | Resource | Principal | Time (UTC) |",
  "|--:|---|---|---|---|---|---|---|",
].join("\n");

function headSection(result: ScanResult, opts: MarkdownOptions): string {
  const active = result.findings.filter((f) => f.status !== "suppressed");
  const suppressed = result.findings.length - active.length;
  const fresh = active.filter(isNew).length;
  const counts = countBySeverity(active);
  const records = result.coverage.reduce((n, c) => n + c.records, 0);
  const subs = new Set(active.map((f) => subscriptionOf(f) ?? ""));
  const lines: string[] = [];
  const noun = active.length === 1 ? "finding" : "findings";
  lines.push(`## azure-exec-audit: ${active.length} ${noun}${active.length > 0 ? ` (${severityCounts(counts)})` : ""}`);
  lines.push("");
  const facts = [
    `Scan ${code(result.id, 128)}`,
    `${code(displayTime(result.startedAt), 64)} → ${code(displayTime(result.finishedAt), 64)}`,
    `${records} records read`,
    result.complete ? "**scan complete**" : "**scan INCOMPLETE**",
  ];
  if (fresh > 0 || result.findings.some((f) => f.baseline !== undefined || f.status !== undefined))
    facts.push(`${fresh} new`);
  if (result.resolved) facts.push(`${result.resolved.length} resolved since the last scan`);
  if (suppressed > 0) facts.push(`${suppressed} suppressed (not counted)`);
  if (opts.toolVersion) facts.push(`azure-exec-audit ${escapeMarkdown(opts.toolVersion)}`);
  lines.push(facts.join(" · "));
  if (!result.complete) {
    const problems = result.coverage.filter((c) => c.status !== "complete").length;
    lines.push(
      "",
      "> [!WARNING]",
      `> The scan is incomplete: ${problems > 0 ? `${problems} of ${result.coverage.length} sources were` : "some input was"} not read completely (see **Coverage**). No finding there is not evidence of absence.`,
    );
  }
  if (active.length > 0) {
    lines.push("", "### By severity", "", "| Severity | Findings | New |", "|---|--:|--:|");
    for (const s of SEVERITIES_DESC) {
      if (counts[s] === 0) continue;
      const n = active.filter((f) => f.severity === s && isNew(f)).length;
      lines.push(`| ${severityCell(s)} | ${counts[s]} | ${n} |`);
    }
    const rows = techniqueRows(active);
    lines.push(
      "",
      "### By ATT&CK technique",
      "",
      `| Technique | Name | Findings | Highest |${subs.size > 1 ? " Subscriptions |" : ""}`,
      `|---|---|--:|---|${subs.size > 1 ? "--:|" : ""}`,
    );
    for (const r of rows.slice(0, MAX_TECHNIQUES)) {
      const name = r.name ? escapeMarkdown(r.name) : "_not in ATT&CK v18_";
      lines.push(
        `| ${cell(r.id, 32)} | ${name} | ${r.findings} | ${severityCell(r.highest)} |${subs.size > 1 ? ` ${r.subscriptions.size} |` : ""}`,
      );
    }
    if (rows.length > MAX_TECHNIQUES) lines.push("", `… and ${rows.length - MAX_TECHNIQUES} more techniques.`);
  }
  return lines.join("\n");
}

function coverageLine(c: CoverageEntry): string {
  const safe = safeCoverage(c);
  const window = safe.from || safe.to ? ` ${code(safe.from ?? "…", 64)} → ${code(safe.to ?? "…", 64)}` : "";
  const reason = safe.reason ? `: ${prose(safe.reason, 1024)}` : "";
  return `- **${safe.status}** ${code(safe.source, 64)} ${code(safe.scope, 512)}${window}, ${safe.records} records${reason}`;
}

function coverageSection(result: ScanResult): string {
  const lines = ["### Coverage", ""];
  const problems = result.coverage.filter((c) => c.status !== "complete");
  const n = result.coverage.length;
  if (n === 0) lines.push("No sources were read.");
  else if (problems.length === 0)
    lines.push(n === 1 ? "The source was read completely." : `All ${n} sources were read completely.`);
  else {
    lines.push(`${problems.length} of ${n} sources were not read completely:`, "");
    for (const c of problems.slice(0, MAX_COVERAGE_LINES)) lines.push(coverageLine(c));
    if (problems.length > MAX_COVERAGE_LINES)
      lines.push(`- … and ${problems.length - MAX_COVERAGE_LINES} more (the JSON report lists them all)`);
  }
  const unseen = result.notObservable ?? [];
  if (unseen.length > 0) {
    lines.push(
      "",
      `${unseen.length} execution vectors leave no record this tool reads (exec into AKS pods, Intune scripts, …): silence there is not evidence of absence.`,
    );
  }
  return lines.join("\n");
}

function stepLine(i: number, s: ChainStep): string {
  const what = s.operation ? code(s.operation, 256) : prose(s.rule);
  const who = s.principal ? ` by ${code(s.principal)}` : "";
  const when = s.time ? `${code(displayTime(s.time), 40)} ` : "";
  return `${i + 1}. ${when}${prose(s.rule)}${s.operation ? ` (${what})` : ""} on ${code(shortResource(s.resourceId))}${who}`;
}

function matchedLines(matched: Record<string, unknown> | undefined): string[] {
  if (!matched) return [];
  return Object.entries(matched).map(
    ([k, v]) => `- ${code(k, 64)}: ${code(typeof v === "string" ? v : JSON.stringify(v), 512)}`,
  );
}

/** The evidence of one finding: payload text, chain steps, what the rule matched. */
function detailSection(n: number, f: Finding): string {
  const safe = safeFinding(f);
  const e = safe.evidence;
  const lines = [
    `#### ${n}. ${severityCell(f.severity)} ${prose(f.title)}`,
    "",
    `- Resource: ${code(safe.resourceId, 1024)}`,
    `- Principal: ${code(principalLabel(safe.principal))}${safe.principal.type ? ` (${prose(safe.principal.type, 64)})` : ""}`,
    `- Time: ${code(safe.time, 64)}${safe.operation ? ` · operation ${code(safe.operation, 256)}` : ""}`,
    `- Rule: ${code(safe.ruleId, 128)} · finding ${code(safe.id, 128)}`,
  ];
  if (safe.suppression)
    lines.push(
      `- Suppressed by ${code(safe.suppression.entry)} until ${code(safe.suppression.expires, 64)}: ${prose(safe.suppression.reason)}`,
    );
  switch (e.kind) {
    case "payload":
      for (const p of e.payloads) {
        lines.push(
          "",
          `Recovered ${prose(p.kind, 32)} from ${code(p.vector)} ${code(p.path)}${p.truncated ? " (truncated)" : ""}:`,
          "",
        );
        lines.push(markdownCodeBlock(cap(p.content, MAX_PAYLOAD)));
      }
      break;
    case "chain": {
      lines.push("", `Chain of ${chainSummary(e)}:`, "");
      e.steps.slice(0, MAX_STEPS).forEach((s, i) => {
        lines.push(stepLine(i, s));
      });
      if (e.steps.length > MAX_STEPS) lines.push(`${MAX_STEPS + 1}. … ${e.steps.length - MAX_STEPS} more steps`);
      break;
    }
    case "activity":
    case "firstSeen":
      lines.push(
        `- ${e.occurrences}${e.occurrencesAtLeast ? "+" : ""} occurrence(s), outcome ${code(e.outcome, 64)}${e.callerIpAddress ? ` from ${code(e.callerIpAddress, 64)}` : ""}`,
      );
      if (e.kind === "firstSeen" && e.newValue)
        lines.push(`- New since the baseline: ${code(JSON.stringify(e.newValue), 512)}`);
      break;
    case "grant":
      lines.push(
        `- Role ${code(e.grant.role)} allows ${e.grant.operations
          .slice(0, 10)
          .map((o) => code(o, 128))
          .join(", ")}`,
      );
      if (e.grant.condition)
        lines.push(`- The assignment has a condition that may narrow it: ${code(e.grant.condition, 512)}`);
      break;
    case "roleAssignment":
      if (e.assignment.condition)
        lines.push(`- The assignment has a condition that may narrow it: ${code(e.assignment.condition, 512)}`);
      break;
    default:
      break;
  }
  if (e.kind !== "chain" && e.kind !== "payload") {
    const m = matchedLines(e.matched);
    if (m.length > 0) lines.push("", "Matched:", "", ...m);
  }
  return lines.join("\n");
}

function closingNote(leftRows: number, leftDetails: number, opts: MarkdownOptions): string {
  const where = opts.fullReport
    ? escapeMarkdown(opts.fullReport)
    : "the JSON or HTML report (`--format json`, `--format html`)";
  const parts: string[] = [];
  if (leftRows > 0) parts.push(`${leftRows} findings rows`);
  if (leftDetails > 0) parts.push(`the evidence of ${leftDetails} findings`);
  return `> [!NOTE]\n> Truncated to stay within the size limit: ${parts.join(" and ")} left out. The whole report is in ${where}.`;
}

/**
 * The Markdown report, at most `maxBytes` UTF-8 bytes. Pure: the CLI format and the GitHub
 * Action's job summary both call it.
 */
export function renderMarkdown(result: ScanResult, opts: MarkdownOptions = {}): string {
  const maxBytes = Math.floor(opts.maxBytes ?? DEFAULT_MARKDOWN_MAX_BYTES);
  if (!(maxBytes >= MIN_MARKDOWN_MAX_BYTES))
    throw new RangeError(`maxBytes must be at least ${MIN_MARKDOWN_MAX_BYTES}`);
  const ordered = newFirst(result.findings);
  const head = headSection(result, opts);
  const coverage = coverageSection(result);
  // The note is written with the largest counts it could say, so whatever it ends up saying fits.
  const reserve = bytes(closingNote(ordered.length, ordered.length, opts)) + 16;
  let budget = maxBytes - reserve - bytes(head) - bytes(coverage) - 8;

  const sections: string[] = [head];
  let rows = 0;
  if (ordered.length === 0) sections.push("No findings.");
  else if (budget > bytes(FINDINGS_HEADER)) {
    const table = ["### Findings (new first)", "", FINDINGS_HEADER];
    budget -= bytes(table.join("\n")) + 4;
    for (const f of ordered.slice(0, MAX_ROWS)) {
      const row = findingRow(rows + 1, f);
      if (bytes(row) + 1 > budget) break;
      budget -= bytes(row) + 1;
      table.push(row);
      rows += 1;
    }
    sections.push(table.join("\n"));
  }
  let details = 0;
  const detailParts: string[] = [];
  for (const [i, f] of ordered.slice(0, rows).entries()) {
    const d = detailSection(i + 1, f);
    const cost = bytes(d) + 2 + (details === 0 ? bytes("### Evidence\n\n") : 0);
    if (cost > budget) break;
    budget -= cost;
    detailParts.push(d);
    details += 1;
  }
  if (details > 0) sections.push(`### Evidence\n\n${detailParts.join("\n\n")}`);
  sections.push(coverage);
  if (rows < ordered.length || details < ordered.length)
    sections.push(closingNote(ordered.length - rows, ordered.length - details, opts));
  let text = `${sections.join("\n\n")}\n`;
  if (bytes(text) > maxBytes) {
    // Only when the head and coverage alone are larger than the limit: cut at a line break.
    const note = "\n\n> [!NOTE]\n> Truncated to stay within the size limit.\n";
    const buf = Buffer.from(text, "utf8").subarray(0, maxBytes - bytes(note));
    const cut = buf.toString("utf8").replace(/\uFFFD$/, "");
    text = `${cut.slice(0, Math.max(0, cut.lastIndexOf("\n")))}${note}`;
  }
  return text;
}

export const markdownFormat: OutputFormat = {
  name: "markdown",
  description: "GitHub Markdown for a pull-request comment or a ticket (size-capped)",
  fileExtension: "md",
  options: [
    {
      flag: "--markdown-max-bytes <n>",
      description: `largest report in bytes; rows and evidence past it are left out with a note (at least ${MIN_MARKDOWN_MAX_BYTES})`,
      key: "maxBytes",
      default: String(DEFAULT_MARKDOWN_MAX_BYTES),
    },
  ],
  async render(result, ctx, out) {
    const raw = ctx.options.maxBytes;
    const maxBytes = typeof raw === "string" ? Number(raw) : DEFAULT_MARKDOWN_MAX_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes < MIN_MARKDOWN_MAX_BYTES) {
      throw new UsageError(`--markdown-max-bytes must be a whole number of bytes, at least ${MIN_MARKDOWN_MAX_BYTES}.`);
    }
    await out.write(renderMarkdown(result, { maxBytes, toolVersion: ctx.toolVersion }));
  },
};
