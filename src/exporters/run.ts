/**
 * Drives an exporter over a scan's findings: batches of at most `maxBatch`, in order, stopping
 * at the abort signal between batches; what was not accepted is returned to the caller (the
 * outbox), never dropped.
 */
import type { Finding } from "../model/finding.js";
import type { BatchOutcome, Exporter, ExportOptions, ExportScan } from "./types.js";

export interface ExportReport {
  exporter: string;
  accepted: number;
  rejected: BatchOutcome["rejected"];
  /** Findings not sent because the export was aborted. */
  unsent: Finding[];
}

export async function exportFindings(
  exporter: Exporter,
  findings: readonly Finding[],
  scan: ExportScan,
  options: ExportOptions = {},
): Promise<ExportReport> {
  const report: ExportReport = { exporter: exporter.name, accepted: 0, rejected: [], unsent: [] };
  const size = Math.max(1, exporter.maxBatch);
  for (let i = 0; i < findings.length; i += size) {
    if (options.abortSignal?.aborted) {
      report.unsent = findings.slice(i);
      break;
    }
    const out = await exporter.send(findings.slice(i, i + size), scan, options);
    report.accepted += out.accepted.length;
    report.rejected.push(...out.rejected);
  }
  return report;
}
