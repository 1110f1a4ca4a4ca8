/**
 * `--format table`: a readable terminal report. Every cell is redacted, sanitised (no escape
 * sequences or control characters from the data reach the terminal) and cut to its column;
 * colour codes, when enabled, are added only by this module, after sanitising.
 */

import type {
  ChainStep,
  CoverageEntry,
  Finding,
  FirstSeenEvidence,
  PayloadEvidence,
  ScanResult,
  Severity,
} from "../../model/finding.js";
import { SEVERITIES } from "../../model/finding.js";
import { redactText } from "../../util/redact.js";
import { cap, sanitizeForTerminal } from "../../util/text.js";
import { compareFindings, countBySeverity, principalLabel, shortResource } from "../common.js";
import type { OutputFormat, RenderContext } from "../registry.js";
import type { OutputSink } from "../sink.js";

const ESC = "\u001b[";
const RESET = `${ESC}0m`;
const SEVERITY_STYLE: Readonly<Record<Severity, string>> = {
  critical: `${ESC}1;97;41m`,
  high: `${ESC}1;31m`,
  medium: `${ESC}33m`,
  low: `${ESC}36m`,
  informational: `${ESC}2m`,
};
const BOLD = `${ESC}1m`;
const DIM = `${ESC}2m`;

/** Longest raw text considered for one cell, before fitting (bounds the work per cell). */
const MAX_CELL_INPUT = 1024;

/** Redact, cap and sanitise attacker-controlled text for one line of terminal output. */
function clean(s: string, max: number = MAX_CELL_INPUT): string {
  return sanitizeForTerminal(cap(redactText(s), max));
}

/** Cut to `width` code points with a trailing "…". */
function fitCell(s: string, width: number): string {
  const chars = Array.from(s);
  if (chars.length <= width) return s;
  if (width <= 1) return "…".slice(0, width);
  return `${chars.slice(0, width - 1).join("")}…`;
}

function visibleLength(s: string): number {
  return Array.from(s).length;
}

function pad(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - visibleLength(s)));
}

function displayTime(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(t);
  return m ? `${m[1]} ${m[2]}Z` : t;
}

interface Column {
  header: string;
  max: number;
  min: number;
}

const COLUMNS: readonly Column[] = [
  { header: "SEVERITY", max: 13, min: 8 },
  { header: "TIME", max: 20, min: 10 },
  { header: "TECHNIQUE(S)", max: 24, min: 9 },
  { header: "TITLE", max: 60, min: 16 },
  { header: "RESOURCE", max: 40, min: 12 },
  { header: "PRINCIPAL", max: 32, min: 12 },
];
/** Which columns give up width first when the terminal is narrow. */
const SHRINK_ORDER = [3, 4, 5, 2, 1];
const GAP = "  ";

/** With a state store, a finding not present before this scan is marked in its title cell. */
const NEW_MARK = "NEW ";

function row(f: Finding): string[] {
  return [
    f.severity,
    clean(displayTime(f.time)),
    clean(f.attack.techniques.join(",") || "-"),
    (f.status === "new" ? NEW_MARK : "") + clean(f.title),
    clean(shortResource(f.resourceId)),
    clean(principalLabel(f.principal)),
  ];
}

function columnWidths(rows: readonly string[][], width?: number): number[] {
  const widths = COLUMNS.map((c, i) =>
    Math.min(c.max, Math.max(visibleLength(c.header), ...rows.map((r) => visibleLength(r[i] ?? "")))),
  );
  if (width === undefined) return widths;
  let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (COLUMNS.length - 1) - width;
  for (const i of SHRINK_ORDER) {
    if (excess <= 0) break;
    const col = COLUMNS[i];
    const current = widths[i];
    if (col === undefined || current === undefined) continue;
    const give = Math.min(excess, Math.max(0, current - col.min));
    widths[i] = current - give;
    excess -= give;
  }
  return widths;
}

function severitySummary(findings: readonly Finding[]): string {
  const counts = countBySeverity(findings);
  const parts = [...SEVERITIES]
    .reverse()
    .filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`);
  const noun = findings.length === 1 ? "finding" : "findings";
  return parts.length > 0 ? `${findings.length} ${noun} (${parts.join(", ")})` : "0 findings";
}

function coverageLabel(c: CoverageEntry): string {
  return `${clean(c.source, 128)} ${clean(c.scope, 256)}`;
}

function coverageLine(c: CoverageEntry): string {
  const window = c.from || c.to ? `  ${clean(c.from ?? "…", 64)} → ${clean(c.to ?? "…", 64)}` : "";
  const reason = c.reason ? `  reason: ${clean(c.reason)}` : "";
  return `  ${clean(c.status, 16).padEnd(7)}  ${coverageLabel(c)}${window}  ${c.records} records${reason}`;
}

const SEVERITY_INDENT = 10;
/** Resolved findings listed under the table; the rest are counted. */
const RESOLVED_LISTED = 20;
const DETAIL_WIDTH = 150;

const shortOperation = (op: string): string => op.split("/").slice(-2).join("/");

function stepsDetail(steps: readonly ChainStep[]): string {
  const names = steps.map((s) => clean(shortOperation(s.operation ?? s.rule), 60));
  return `${steps.length} steps: ${names.slice(0, 8).join(" → ")}${names.length > 8 ? " → …" : ""}`;
}

function payloadDetail(e: PayloadEvidence): string | undefined {
  const p = e.payloads[0];
  if (!p) return undefined;
  const text = redactText(p.content).replace(/\s+/g, " ");
  return `${clean(e.vector, 60)} ${clean(p.path, 80)}: ${clean(text, 200)}`;
}

function newValueDetail(e: FirstSeenEvidence): string | undefined {
  if (!e.newValue) return undefined;
  const pairs = Object.entries(e.newValue).map(([k, v]) => `${k}=${clean(String(v), 80)}`);
  return `new since the baseline: ${pairs.join(", ")}`;
}

function matchedDetail(matched: Record<string, unknown> | undefined): string | undefined {
  if (!matched) return undefined;
  // The operation is already in the row's title; the other fields say what made it match.
  const pairs = Object.entries(matched)
    .filter(([k]) => !/^operationName$/i.test(k))
    .map(([k, v]) => `${k}=${clean(redactText(String(v)), 120)}`);
  return pairs.length > 0 ? pairs.join(", ") : undefined;
}

/** One line under a finding: the payload that ran, the chain's steps, or what was new. */
function detail(f: Finding): string | undefined {
  const e = f.evidence;
  switch (e.kind) {
    case "chain":
      return stepsDetail(e.steps);
    case "payload":
      return payloadDetail(e) ?? matchedDetail(e.matched);
    case "firstSeen":
      return newValueDetail(e) ?? matchedDetail(e.matched);
    case "activity":
    case "configuration":
    case "image":
      return matchedDetail(e.matched);
    case "roleAssignment":
    case "grant": {
      const condition = e.kind === "grant" ? e.grant.condition : e.assignment.condition;
      const matched = matchedDetail(e.matched);
      // A condition may narrow the grant: say so rather than let it read as unconditional.
      if (!condition) return matched;
      const note = `conditional assignment: ${clean(redactText(condition), 200)}`;
      return matched ? `${matched}; ${note}` : note;
    }
    default:
      return noDetail(e);
  }
}

/** A new evidence kind fails to compile here until it chooses its line; at run time it gets none. */
function noDetail(_: never): undefined {
  return undefined;
}

async function renderTable(result: ScanResult, ctx: RenderContext, out: OutputSink): Promise<void> {
  const paint = (style: string, s: string): string => (ctx.color ? `${style}${s}${RESET}` : s);
  const write = (lines: readonly string[]): Promise<void> => out.write(lines.map((l) => `${l}\n`).join(""));
  const records = result.coverage.reduce((n, c) => n + c.records, 0);
  const problems = result.coverage.filter((c) => c.status !== "complete");

  let state: string;
  if (result.complete) {
    state = "scan complete";
  } else {
    // The reasons are long (scope, cause, the role that fixes it); the Coverage section at the end
    // prints each whole, so the summary line only counts them.
    const n = problems.length;
    state =
      paint(SEVERITY_STYLE.high, "scan INCOMPLETE") +
      (n > 0 ? ` — ${n} of ${result.coverage.length} sources not read completely (see Coverage below)` : "");
  }
  // Suppressed findings are listed apart, after the others: accepted, and not counted for --fail-on.
  const shown = result.findings.filter((f) => f.status !== "suppressed");
  const suppressed = result.findings.filter((f) => f.status === "suppressed");
  const inBaseline = result.findings.filter((f) => f.baseline === true && f.status !== "suppressed").length;
  const accepted = [
    suppressed.length > 0 ? `${suppressed.length} suppressed` : "",
    inBaseline > 0 ? `${inBaseline} in the baseline` : "",
  ].filter((x) => x.length > 0);
  const fresh = result.findings.filter((f) => f.status === "new").length;
  const lifecycle = result.resolved
    ? [
        `${fresh} new, ${result.resolved.length} resolved since ${result.previousScanId ? "the last scan" : "no earlier scan"}`,
      ]
    : [];
  await write([
    paint(BOLD, `azure-exec-audit scan ${clean(result.id, 128)}`) +
      `  ${clean(result.startedAt, 64)} → ${clean(result.finishedAt, 64)}`,
    [severitySummary(shown), ...accepted, `${records} records read`, state, ...lifecycle].join(" · "),
    "",
  ]);

  if (result.findings.length === 0) {
    await write(["No findings."]);
  } else {
    const findings = [...shown].sort(compareFindings);
    const set = [...suppressed].sort(compareFindings);
    // Column widths depend on every row, so rows are built first; each is written on its own.
    const rows = findings.map(row);
    const setRows = set.map(row);
    const widths = columnWidths([...rows, ...setRows], ctx.width);
    // A detail line fits the terminal like the rows do ("↳ " and the indent come first).
    const detailWidth =
      ctx.width === undefined ? DETAIL_WIDTH : Math.max(1, Math.min(DETAIL_WIDTH, ctx.width - SEVERITY_INDENT - 2));
    const last = COLUMNS.length - 1;
    const format = (cells: readonly string[]): string[] =>
      cells.map((cell, i) => {
        const w = widths[i] ?? 0;
        const fitted = fitCell(cell, w);
        return i === last ? fitted : pad(fitted, w);
      });
    await write([
      paint(BOLD, format(COLUMNS.map((c) => c.header)).join(GAP)),
      paint(DIM, widths.map((w) => "─".repeat(w)).join(GAP)),
    ]);
    for (const [n, f] of findings.entries()) {
      const [sev = "", ...rest] = format(rows[n] ?? []);
      // Colour the word only, so a background colour does not run into the padding.
      const word = sev.trimEnd();
      const coloured = paint(SEVERITY_STYLE[f.severity], word) + sev.slice(word.length);
      const lines = [[coloured, ...rest].join(GAP).trimEnd()];
      const more = detail(f);
      if (more) lines.push(paint(DIM, `${" ".repeat(SEVERITY_INDENT)}↳ ${fitCell(more, detailWidth)}`));
      await write(lines);
    }
    if (findings.length === 0) await write(["No findings apart from suppressed ones."]);
    if (set.length > 0) {
      await write(["", paint(BOLD, `Suppressed (${set.length}; reported, not counted for --fail-on):`)]);
      for (const [n, f] of set.entries()) {
        const s = f.suppression;
        const why = s
          ? `suppressed by ${clean(s.entry, 200)} until ${clean(s.expires, 40)}: ${clean(s.reason, 400)}`
          : "suppressed";
        await write([
          paint(
            DIM,
            format(setRows[n] ?? [])
              .join(GAP)
              .trimEnd(),
          ),
          paint(DIM, `${" ".repeat(SEVERITY_INDENT)}↳ ${fitCell(why, detailWidth)}`),
        ]);
      }
    }
  }

  const lines = [""];
  const resolved = result.resolved ?? [];
  if (resolved.length > 0) {
    lines.push(paint(BOLD, `Resolved since last scan: ${resolved.length}`));
    for (const r of resolved.slice(0, RESOLVED_LISTED))
      lines.push(
        `  ${r.severity.padEnd(13)}  ${fitCell(clean(r.title), 60)}  ${fitCell(clean(shortResource(r.resourceId)), 40)}  first seen ${clean(displayTime(r.firstSeen), 32)}`,
      );
    if (resolved.length > RESOLVED_LISTED)
      lines.push(`  … and ${resolved.length - RESOLVED_LISTED} more (findings list --status resolved)`);
    lines.push("");
  }
  if (result.coverage.length === 0) {
    lines.push("Coverage: no sources were read.");
  } else if (problems.length === 0) {
    const n = result.coverage.length;
    lines.push(`Coverage: ${n === 1 ? "the source was" : `all ${n} sources were`} read completely.`);
  } else {
    lines.push(
      `${paint(BOLD, "Coverage:")} ${problems.length} of ${result.coverage.length} sources not read completely`,
    );
    for (const c of problems) lines.push(coverageLine(c));
  }
  const unseen = result.notObservable ?? [];
  if (unseen.length > 0) {
    const names = unseen.slice(0, 3).map((v) => v.name.replace(/\s*\(.*$/, "").replace(/\s+—.*$/, ""));
    if (unseen.length > 3) names.push("…");
    lines.push(
      `Not observable: ${unseen.length} execution vectors leave no record this tool reads (${clean(names.join("; "), 240)}; docs/coverage.md); silence there is not evidence of absence.`,
    );
  }
  await write(lines);
}

export const tableFormat: OutputFormat = {
  name: "table",
  description: "a readable terminal report (the default on a terminal)",
  fileExtension: "txt",
  render: renderTable,
};
