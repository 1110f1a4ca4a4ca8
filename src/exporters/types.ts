/**
 * The exporter contract: findings leave the tool for another system (Microsoft Sentinel through
 * the Logs Ingestion API is the first). Exporters are async, batched and abortable, and report
 * per batch what the receiver accepted, so a caller (the state store's outbox) can keep what was
 * not accepted and send it again: delivery is at-least-once, deduplicated downstream by
 * FindingId + ScanId.
 */
import type { Finding } from "../model/finding.js";

export interface ExportScan {
  id: string;
  finishedAt: string;
  toolVersion: string;
}

export interface ExportOptions {
  abortSignal?: AbortSignal;
}

export interface BatchOutcome {
  /** Findings the receiver accepted. */
  accepted: Finding[];
  /** Findings it did not, with why; the caller keeps them for the next attempt. */
  rejected: { finding: Finding; reason: string }[];
}

export interface Exporter {
  /** e.g. "sentinel"; used in diagnostics and the outbox. */
  readonly name: string;
  /** Most findings sent in one call (the receiver's request-size limit decides it). */
  readonly maxBatch: number;
  /** Sends one batch of at most maxBatch findings. Throws only for what no retry can fix. */
  send(batch: readonly Finding[], scan: ExportScan, options: ExportOptions): Promise<BatchOutcome>;
}
