/**
 * Diagnostics: things a reader of a scan must know that are not findings — a rule skipped, a
 * rule short of history, a buffer bound hit, a record that could not be read. Each has a stable
 * code (for filters and tests), one sentence of message, and where it applies.
 */

/** Where a diagnostic or a record points: a file and line / element, or a URL for live sources. */
export interface Location {
  file?: string;
  /** 1-based line (JSON Lines) or element index (JSON arrays). */
  line?: number;
  /** 0-based index of the record among those on its line (a one-line document, a batch). */
  element?: number;
  url?: string;
}

export const DIAGNOSTIC_CODES = {
  /** A rule file or document could not be loaded; the other rules ran. */
  ruleSkipped: "rule/skipped",
  /** A user rule took longer than its per-record budget and was disabled for the rest of the scan. */
  ruleOverBudget: "rule/over-budget",
  /** A user rule with a built-in rule's id replaced the built-in one. */
  ruleReplaced: "rule/replaced",
  /** --enable / --disable turned rules off. */
  ruleDisabled: "rule/disabled",
  /** --severity left findings out of the report. */
  severityFiltered: "report/severity-filtered",
  /** A first-seen rule's window is shorter than its learning period. */
  ruleNeedsHistory: "rule/needs-history",
  /** A correlation buffer reached its bound; later matches were not correlated. */
  correlationBound: "engine/correlation-bound",
  /** The scan held as many distinct findings as it may; later new ones were counted, not kept. */
  findingsBound: "engine/findings-bound",
  /** A first-seen baseline held as many keys as it may. */
  baselineBound: "engine/baseline-bound",
  /** Attribution held as many resources as it may. */
  writersBound: "engine/writers-bound",
  /** Deferred records (those whose rules need scan-wide context) reached their bound. */
  deferredBound: "engine/deferred-bound",
  /** A record could not be read or recognised. */
  recordUnreadable: "input/record-unreadable",
  /** A whole file could not be read. */
  fileUnreadable: "input/file-unreadable",
  /** App settings whose site was never read. */
  orphanSettings: "input/orphan-settings",
  /** Incremental scans: events an earlier scan read in the overlap, skipped (read once). */
  overlapSkipped: "incremental/overlap-skipped",
  /** A suppression entry whose expires date has passed: it no longer applies. */
  suppressionExpired: "suppression/expired",
  /** A suppression entry (unexpired) that matched no finding of the scan. */
  suppressionUnused: "suppression/unused",
} as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[keyof typeof DIAGNOSTIC_CODES];

export interface Diagnostic {
  code: DiagnosticCode;
  /** One sentence, already specific (names the rule, the file, the bound). */
  message: string;
  location?: Location;
  /** The rule the diagnostic is about, when there is one. */
  ruleId?: string;
}

/** Collects diagnostics during a scan; stages write, the orchestrator reads. */
export class Diagnostics {
  private readonly items: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  add(d: Diagnostic): void {
    // The same diagnostic (code, rule, message) is reported once however often it recurs.
    const key = `${d.code}\u001f${d.ruleId ?? ""}\u001f${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(d);
  }

  list(): readonly Diagnostic[] {
    return this.items;
  }
}

/** Report order: by code, rule, message; so a report is the same whatever order stages met things in. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const by = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return by(a.code, b.code) || by(a.ruleId ?? "", b.ruleId ?? "") || by(a.message, b.message);
}
