/**
 * `--format json`: the stable JSON report (BRIEF §3). Findings are redacted and every string is
 * capped at MAX_REPORT_STRING, so one hostile record cannot leak a secret or blow up the report.
 * Rule metadata is not included (SARIF carries it).
 */

import type { ScanResult } from "../model/finding.js";
import { safeCoverage, safeFinding, safeText, TOOL_NAME } from "./common.js";

export const JSON_SCHEMA_VERSION = "1";

export function renderJson(result: ScanResult, meta: { toolVersion: string }): string {
  const report = {
    schemaVersion: JSON_SCHEMA_VERSION,
    tool: { name: TOOL_NAME, version: meta.toolVersion },
    scan: {
      id: safeText(result.id),
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      complete: result.complete,
      coverage: result.coverage.map(safeCoverage),
      ...(result.notes && result.notes.length > 0 ? { notes: result.notes.map((n) => safeText(n)) } : {}),
    },
    findings: result.findings.map(safeFinding),
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}
