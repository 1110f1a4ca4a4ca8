/**
 * `--format table`: a readable terminal report. Every cell is redacted, sanitised (no escape
 * sequences or control characters from the data reach the terminal) and cut to its column;
 * colour codes, when enabled, are added only by this module, after sanitising.
 */

import { excerpt } from "../../matcher/locate.js";
import { DIAGNOSTIC_CODES } from "../../model/diagnostics.js";
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
import { compareFindings, countBySeverity, principalLabel } from "../common.js";
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

/** Where a line may break besides a space: after a path or list separator, a dash. */
const BREAK_AFTER = new Set(["/", ",", "-", "·", "→", "."]);

/**
 * Wraps text into lines of at most `width` code points: at a space in the last two thirds of the
 * line, else after another separator there, else in the middle of a word (ids have few breaks).
 */
export function wrap(s: string, width: number): string[] {
  const w = Math.max(1, width);
  const chars = Array.from(s);
  const lines: string[] = [];
  let start = 0;
  const breakAt = (accept: (c: string) => boolean): number | undefined => {
    if (accept(" ") && chars[start + w] === " ") return start + w;
    for (let i = start + w - 1; i > start + w / 3; i--) if (accept(chars[i] as string)) return i + 1;
    return undefined;
  };
  while (chars.length - start > w) {
    const cut = breakAt((c) => c === " ") ?? breakAt((c) => BREAK_AFTER.has(c)) ?? start + w;
    lines.push(chars.slice(start, cut).join("").trimEnd());
    start = cut;
    while (chars[start] === " ") start++;
  }
  lines.push(chars.slice(start).join(""));
  return lines;
}

/** Prose (summary, coverage, notes) wrapped to the width, continuation lines indented. */
function wrapProse(s: string, width: number | undefined, indent: number): string[] {
  if (width === undefined || visibleLength(s) <= width) return [s];
  const [first = "", ...rest] = wrap(s, width);
  const more = rest.join(" ");
  return [first, ...(more ? wrap(more, width - indent).map((l) => " ".repeat(indent) + l) : [])];
}

function displayTime(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(t);
  return m ? `${m[1]} ${m[2]}Z` : t;
}

interface Column {
  header: string;
  /** Width cap when the width is unknown (a file, a pipe). */
  max: number;
  /** Narrowest it may become (its cells wrap) before it moves to the line under the row. */
  min: number;
  /** Share of the spare width for the columns that take what is left (title, resource, principal). */
  weight?: number;
}

const COLUMNS: readonly Column[] = [
  { header: "SEVERITY", max: 13, min: 8 },
  // Wide enough for "config as of 2026-11-19 02:04:11Z" on one line when there is room.
  { header: "TIME", max: 33, min: 10 },
  { header: "TECHNIQUE(S)", max: 20, min: 9 },
  { header: "TITLE", max: 60, min: 18, weight: 3 },
  { header: "RESOURCE", max: 56, min: 16, weight: 3 },
  { header: "PRINCIPAL", max: 40, min: 14, weight: 2 },
];
const SEVERITY = 0;
const TIME = 1;
const TECHNIQUES = 2;
const PRINCIPAL = 5;
const FLEXIBLE = [3, 4, PRINCIPAL];
/** A GUID's length: Entra object ids. */
const OBJECT_ID = 36;
/** How a narrow terminal is met, step by step, until the flexible columns have their minimum. */
const NARROWING: readonly { column: number; to: "min" | "moved" }[] = [
  { column: TECHNIQUES, to: "min" },
  { column: TIME, to: "min" },
  { column: TECHNIQUES, to: "moved" },
  { column: TIME, to: "moved" },
];
const GAP = "  ";
/** Techniques shown in a cell before the rest are counted (`--wide` shows all). */
const TECHNIQUES_SHOWN = 3;

/** With a state store, a finding not present before this scan is marked in its title cell. */
const NEW_MARK = "NEW ";

/**
 * An ARM id relative to its subscription, every segment kept: `rg-prod/Microsoft.Compute/
 * virtualMachines/vm-1` (the constant words resourceGroups and providers left out), a
 * subscription-level resource as `(subscription)/Microsoft.Authorization/…`. Anything that is not
 * an ARM id (an image reference) is shown as it is.
 */
export function resourcePath(resourceId: string): string {
  const m = /^\/subscriptions\/[^/]+(\/.*)?$/i.exec(resourceId);
  if (!m) return resourceId;
  const rest = (m[1] ?? "").split("/").filter((x) => x.length > 0);
  if (rest.length === 0) return "(subscription)";
  const out: string[] = [];
  let i = 0;
  if (rest[0]?.toLowerCase() === "resourcegroups" && rest[1] !== undefined) {
    out.push(rest[1]);
    i = 2;
  } else out.push("(subscription)");
  for (; i < rest.length; i++) if ((rest[i] as string).toLowerCase() !== "providers") out.push(rest[i] as string);
  return out.join("/");
}

/** The finding's time, marked when it is when the configuration was read rather than an event's. */
function timeCell(f: Finding): string {
  const t = displayTime(f.time);
  return "timeSource" in f.evidence && f.evidence.timeSource ? `config as of ${t}` : t;
}

function principalCell(f: Finding, wide: boolean): string {
  const label = principalLabel(f.principal);
  // --wide: the object id too, whole, so it can be copied.
  return wide && f.principal.name && f.principal.id ? `${label} (${f.principal.id})` : label;
}

function techniquesCell(techniques: readonly string[], wide: boolean): string {
  if (techniques.length === 0) return "-";
  if (wide || techniques.length <= TECHNIQUES_SHOWN) return techniques.join(",");
  return `${techniques.slice(0, TECHNIQUES_SHOWN).join(",")} +${techniques.length - TECHNIQUES_SHOWN}`;
}

function row(f: Finding, wide: boolean): string[] {
  return [
    f.severity,
    clean(timeCell(f)),
    clean(techniquesCell(f.attack.techniques, wide)),
    (f.status === "new" ? NEW_MARK : "") + clean(f.title),
    clean(resourcePath(f.resourceId)),
    clean(principalCell(f, wide)),
  ];
}

interface Layout {
  /** Width per column; 0 for a column moved under the row. */
  widths: number[];
  /** Columns moved under the row (their values lead the detail line). */
  moved: number[];
}

/**
 * Column widths. Without a width (a file, a pipe) each column takes its cells' width up to its
 * cap; with `--wide`, its cells' full width. On a terminal, severity, time and techniques take
 * their cells' width (up to their cap), and title, resource and principal share what is left by
 * weight (a column whose cells are narrower than its share gives the rest back); their cells wrap.
 * When that leaves them less than their minimum, techniques and then time narrow, and then move
 * to the line under the row.
 */
function layout(rows: readonly string[][], width: number | undefined, wide: boolean): Layout {
  const natural = COLUMNS.map((c, i) =>
    Math.max(visibleLength(c.header), ...rows.map((r) => visibleLength(r[i] ?? ""))),
  );
  if (wide) return { widths: natural, moved: [] };
  const capped = natural.map((n, i) => Math.min(n, COLUMNS[i]?.max ?? n));
  if (width === undefined) return { widths: capped, moved: [] };
  const widths = [...capped];
  const moved: number[] = [];
  const flexMin = FLEXIBLE.reduce((a, i) => a + Math.min(natural[i] as number, COLUMNS[i]?.min ?? 0), 0);
  const spare = (): number => {
    const fixed = [SEVERITY, TIME, TECHNIQUES].filter((i) => !moved.includes(i));
    const shown = fixed.length + FLEXIBLE.length;
    return width - fixed.reduce((a, i) => a + (widths[i] as number), 0) - GAP.length * (shown - 1);
  };
  for (const step of NARROWING) {
    if (spare() >= flexMin) break;
    if (step.to === "moved") {
      widths[step.column] = 0;
      moved.push(step.column);
    } else widths[step.column] = Math.min(widths[step.column] as number, COLUMNS[step.column]?.min ?? 0);
  }
  // Water-filling: a column that needs less than its share takes what it needs, the rest share again.
  let budget = spare();
  let open = [...FLEXIBLE];
  // A principal's object id (36 characters) is kept on one line when the others keep their minimum.
  const id = Math.min(natural[PRINCIPAL] as number, OBJECT_ID);
  if (budget - id >= FLEXIBLE.filter((i) => i !== PRINCIPAL).reduce((a, i) => a + (COLUMNS[i]?.min ?? 0), 0)) {
    widths[PRINCIPAL] = id;
    budget -= id;
    open = open.filter((i) => i !== PRINCIPAL);
  }
  for (;;) {
    const weights = open.reduce((a, i) => a + (COLUMNS[i]?.weight ?? 1), 0);
    const satisfied = open.filter((i) => (natural[i] as number) <= (budget * (COLUMNS[i]?.weight ?? 1)) / weights);
    if (satisfied.length === 0) {
      for (const i of open)
        widths[i] = Math.max(
          Math.min(natural[i] as number, COLUMNS[i]?.min ?? 1),
          Math.floor((budget * (COLUMNS[i]?.weight ?? 1)) / weights),
        );
      break;
    }
    for (const i of satisfied) {
      widths[i] = natural[i] as number;
      budget -= natural[i] as number;
    }
    open = open.filter((i) => !satisfied.includes(i));
    if (open.length === 0) break;
  }
  return { widths, moved };
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
  return `  ${clean(c.status, 16).padEnd(8)}  ${coverageLabel(c)}${window}  ${c.records} records${reason}`;
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

/** Characters of a payload the one-line summary shows. */
const PAYLOAD_LINE_CHARS = 200;

/**
 * One line of the first payload: its head, or, when the rule's match lies past what one line
 * shows, a window around that part (redaction first, so a secret is never cut in half unseen).
 */
function payloadDetail(e: PayloadEvidence): string | undefined {
  const p = e.payloads[0];
  if (!p) return undefined;
  const red = redactText(p.content).replace(/\s+/g, " ");
  const found = p.found ? redactText(p.found).replace(/\s+/g, " ") : undefined;
  const at = found ? red.indexOf(found) : -1;
  const x = excerpt(red, PAYLOAD_LINE_CHARS, found && at >= 0 ? [at, at + found.length] : undefined);
  const text = x.offset > 0 ? `…${x.text.slice(1)}` : x.text;
  return `${clean(e.vector, 60)} ${clean(p.path, 80)}: ${clean(text, PAYLOAD_LINE_CHARS)}`;
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

/** Diagnostics listed under the findings; the rest are counted (the JSON report has them all). */
const NOTES_LISTED = 12;
/** Diagnostics the Coverage section already says (each unreadable record or file is in a reason). */
const IN_COVERAGE = new Set<string>([DIAGNOSTIC_CODES.recordUnreadable, DIAGNOSTIC_CODES.fileUnreadable]);

async function renderTable(result: ScanResult, ctx: RenderContext, out: OutputSink): Promise<void> {
  const paint = (style: string, s: string): string => (ctx.color ? `${style}${s}${RESET}` : s);
  const write = (lines: readonly string[]): Promise<void> => out.write(lines.map((l) => `${l}\n`).join(""));
  const wide = ctx.wide === true;
  const width = wide ? undefined : ctx.width;
  const records = result.coverage.reduce((n, c) => n + c.records, 0);
  const problems = result.coverage.filter((c) => c.status !== "complete");

  const INCOMPLETE = "scan INCOMPLETE";
  let state: string;
  if (result.complete) {
    state = "scan complete";
  } else {
    // The reasons are long (scope, cause, the role that fixes it); the Coverage section at the end
    // prints each whole, so the summary line only counts them.
    const n = problems.length;
    state =
      INCOMPLETE +
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
  const diagnostics = result.diagnostics.filter((d) => !IN_COVERAGE.has(d.code));
  const notesCount = diagnostics.length > 0 ? [`${diagnostics.length} note${diagnostics.length === 1 ? "" : "s"}`] : [];
  // Wrapped as plain text, then painted, so colour codes never count as width.
  const [title = "", ...titleRest] = wrapProse(
    `azure-exec-audit scan ${clean(result.id, 128)}  ${clean(result.startedAt, 64)} → ${clean(result.finishedAt, 64)}`,
    width,
    2,
  );
  const summary = wrapProse(
    [severitySummary(shown), ...accepted, `${records} records read`, state, ...notesCount, ...lifecycle].join(" · "),
    width,
    2,
  ).map((l) => l.replace(INCOMPLETE, paint(SEVERITY_STYLE.high, INCOMPLETE)));
  await write([paint(BOLD, title), ...titleRest, ...summary, ""]);

  if (result.findings.length === 0) {
    await write(["No findings."]);
  } else {
    const findings = [...shown].sort(compareFindings);
    const set = [...suppressed].sort(compareFindings);
    // Column widths depend on every row, so rows are built first; each is written on its own.
    const rows = findings.map((f) => row(f, wide));
    const setRows = set.map((f) => row(f, wide));
    const { widths, moved } = layout([...rows, ...setRows], width, wide);
    const visible = COLUMNS.map((_, i) => i).filter((i) => (widths[i] ?? 0) > 0);
    // A detail line fits the terminal like the rows do ("↳ " and the indent come first).
    const detailWidth =
      width === undefined ? (wide ? Number.POSITIVE_INFINITY : DETAIL_WIDTH) : Math.max(1, width - SEVERITY_INDENT - 2);
    const lastVisible = visible[visible.length - 1];
    /** One row as lines: each cell wrapped to its column, the row as tall as its tallest cell. */
    const format = (cells: readonly string[], style?: string): string[] => {
      const wrapped = visible.map((i) => {
        const w = widths[i] ?? 0;
        const cell = cells[i] ?? "";
        // The severity word is never wrapped; every other cell wraps rather than lose its end.
        return i === 0 ? [fitCell(cell, w)] : wrap(cell, w);
      });
      const height = Math.max(...wrapped.map((c) => c.length));
      const lines: string[] = [];
      for (let n = 0; n < height; n++) {
        const parts = visible.map((i, k) => {
          const text = wrapped[k]?.[n] ?? "";
          const padded = i === lastVisible ? text : pad(text, widths[i] ?? 0);
          if (n === 0 && i === 0 && style) {
            // Colour the word only, so a background colour does not run into the padding.
            const word = padded.trimEnd();
            return paint(style, word) + padded.slice(word.length);
          }
          return padded;
        });
        lines.push(parts.join(GAP).trimEnd());
      }
      return lines;
    };
    const under = (cells: readonly string[], more: string | undefined): string | undefined => {
      const lead = moved
        .sort((a, b) => a - b)
        .map((i) => cells[i] ?? "")
        .filter((x) => x.length > 0 && x !== "-");
      const text = [...lead, ...(more ? [more] : [])].join(" · ");
      return text.length > 0 ? `${" ".repeat(SEVERITY_INDENT)}↳ ${fitCell(text, detailWidth)}` : undefined;
    };
    const header = visible.map((i) => {
      const h = COLUMNS[i]?.header ?? "";
      return i === lastVisible ? h : pad(fitCell(h, widths[i] ?? 0), widths[i] ?? 0);
    });
    await write([
      paint(BOLD, header.join(GAP).trimEnd()),
      paint(DIM, visible.map((i) => "─".repeat(widths[i] ?? 0)).join(GAP)),
    ]);
    for (const [n, f] of findings.entries()) {
      const cells = rows[n] ?? [];
      const lines = format(cells, SEVERITY_STYLE[f.severity]);
      const more = under(cells, detail(f));
      if (more) lines.push(paint(DIM, more));
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
        const cells = setRows[n] ?? [];
        await write([...format(cells).map((l) => paint(DIM, l)), paint(DIM, under(cells, why) ?? "")]);
      }
    }
  }

  const lines = [""];
  // Notes come right under the findings: a rule that was skipped or is short of history is a
  // blind spot, and a table that looks clean must say where it could not look.
  if (diagnostics.length > 0) {
    lines.push(paint(BOLD, `Notes (${diagnostics.length}):`));
    for (const d of diagnostics.slice(0, NOTES_LISTED)) lines.push(...wrapProse(`  - ${clean(d.message)}`, width, 4));
    if (diagnostics.length > NOTES_LISTED)
      lines.push(`  … and ${diagnostics.length - NOTES_LISTED} more (scan.diagnostics in --format json)`);
    lines.push("");
  }
  const resolved = result.resolved ?? [];
  if (resolved.length > 0) {
    lines.push(paint(BOLD, `Resolved since last scan: ${resolved.length}`));
    for (const r of resolved.slice(0, RESOLVED_LISTED))
      lines.push(
        ...wrapProse(
          `  ${r.severity.padEnd(13)}  ${clean(r.title)}  ${clean(resourcePath(r.resourceId))}  first seen ${clean(displayTime(r.firstSeen), 32)}`,
          width,
          17,
        ),
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
    for (const c of problems) lines.push(...wrapProse(coverageLine(c), width, 12));
  }
  const unseen = result.notObservable ?? [];
  if (unseen.length > 0) {
    const names = unseen.slice(0, 3).map((v) => v.name.replace(/\s*\(.*$/, "").replace(/\s+—.*$/, ""));
    if (unseen.length > 3) names.push("…");
    lines.push(
      ...wrapProse(
        `Not observable: ${unseen.length} execution vectors leave no record this tool reads (${clean(names.join("; "), 240)}; docs/coverage.md); silence there is not evidence of absence.`,
        width,
        2,
      ),
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
