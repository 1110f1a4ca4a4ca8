/**
 * `--format json`: the stable JSON report (docs/cli.md). Findings are redacted and every string
 * is capped at MAX_REPORT_STRING, so one hostile record cannot leak a secret or blow up the
 * report. Rule metadata is not included (SARIF carries it). Findings are streamed one by one.
 */

import type { Diagnostic } from "../../model/diagnostics.js";
import type { ScanResult } from "../../model/finding.js";
import { safeCoverage, safeFinding, safeResolved, safeText, safeValue, TOOL_NAME } from "../common.js";
import { StreamedArray, writeJson } from "../json-writer.js";
import type { OutputFormat } from "../registry.js";

/**
 * 3: a coverage entry may be `empty` (a source that gave no records at all). Finding ids are the
 * same as in schema 2, so a schema-2 report still serves as a --baseline.
 */
export const JSON_SCHEMA_VERSION = "3";
/** Schemas whose finding ids are this version's: a baseline written by any of them gates as well. */
export const SAME_FINDING_IDS: readonly string[] = ["2", "3"];

function safeDiagnostic(d: Diagnostic): Diagnostic {
  return safeValue({
    code: d.code,
    message: d.message,
    ...(d.location ? { location: d.location } : {}),
    ...(d.ruleId !== undefined ? { ruleId: d.ruleId } : {}),
  });
}

/** The report as one value; `findings` is produced lazily while it is written. */
function report(result: ScanResult, toolVersion: string): Record<string, unknown> {
  const diagnostics = result.diagnostics;
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: toolVersion },
    scan: {
      id: safeText(result.id),
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      complete: result.complete,
      coverage: result.coverage.map(safeCoverage),
      // `notes` predates diagnostics; readers of schema 1 keep getting the same sentences.
      ...(diagnostics.length > 0
        ? { notes: diagnostics.map((d) => safeText(d.message)), diagnostics: diagnostics.map(safeDiagnostic) }
        : {}),
      ...(result.notObservable && result.notObservable.length > 0
        ? { notObservable: result.notObservable.map((v) => safeValue(v)) }
        : {}),
      ...(result.previousScanId !== undefined ? { previousScanId: safeText(result.previousScanId) } : {}),
    },
    findings: new StreamedArray(
      (function* () {
        for (const f of result.findings) yield safeFinding(f);
      })(),
    ),
    // Only with a state store: what earlier scans reported and this one no longer finds.
    ...(result.resolved ? { resolved: result.resolved.map(safeResolved) } : {}),
  };
}

export const jsonFormat: OutputFormat = {
  name: "json",
  description: `the JSON report (schema ${JSON_SCHEMA_VERSION})`,
  fileExtension: "json",
  async render(result, ctx, out) {
    await writeJson(out, report(result, ctx.toolVersion));
  },
};
