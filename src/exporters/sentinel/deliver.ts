/**
 * At-least-once delivery from the state store's outbox: a page of rows is read, sent, and only
 * then settled — rows the service accepted leave the outbox, failed ones stay with their reason.
 * A process that dies between the send and the settle leaves its rows in the outbox; the next
 * flush sends them again, identical (same FindingId and ScanId), and the dedup query in
 * docs/sentinel.md keeps one. Rows that failed get another pass after a pause, so one failed
 * call does not wait for the next scan.
 */
import type { Outbox, OutboxItem } from "../../store/types.js";
import type { RowSender } from "./client.js";
import { rowKey } from "./rows.js";
import { SENTINEL_TABLE, type SentinelRow } from "./schema.js";

/** The outbox's name for this exporter's rows. */
export const OUTBOX_EXPORTER = "sentinel";

export const outboxItems = (rows: readonly SentinelRow[]): OutboxItem[] =>
  rows.map((r) => ({ findingId: r.FindingId, scanId: r.ScanId, payload: r }));

export interface FlushOptions {
  /** Passes over the outbox (the first, then retries of what failed). Default 2. */
  passes?: number;
  /** Pause before a retry pass. Default 2 s. */
  pauseMs?: number;
  /** Rows and payload bytes read per page. */
  pageRows?: number;
  pageBytes?: number;
  abortSignal?: AbortSignal;
  /** Called after each page is sent and before it is settled (crash tests stop here). */
  afterSend?: () => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

export interface FlushReport {
  /** Rows the service accepted (and that left the outbox). */
  delivered: number;
  /** Rows still in the outbox afterwards, and why the latest of them failed. */
  remaining: number;
  lastError?: string;
}

export async function flushOutbox(outbox: Outbox, sender: RowSender, options: FlushOptions = {}): Promise<FlushReport> {
  const passes = Math.max(1, options.passes ?? 2);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let delivered = 0;
  for (let pass = 0; pass < passes; pass++) {
    if (pass > 0) {
      if (outbox.waiting(OUTBOX_EXPORTER).rows === 0 || options.abortSignal?.aborted) break;
      await sleep(options.pauseMs ?? 2000);
    }
    let failures = 0;
    let after = 0;
    for (;;) {
      if (options.abortSignal?.aborted) break;
      const page = outbox.page(OUTBOX_EXPORTER, after, options.pageRows ?? 500, options.pageBytes ?? 8_000_000);
      if (page.length === 0) break;
      after = page.at(-1)?.seq ?? after;
      const seqOf = new Map(page.map((e) => [`${e.findingId}\u001f${e.scanId}`, e.seq]));
      const out = await sender.upload(
        page.map((e) => e.payload as SentinelRow),
        options.abortSignal ? { abortSignal: options.abortSignal } : {},
      );
      await options.afterSend?.();
      const seq = (r: SentinelRow): number => seqOf.get(rowKey(r)) as number;
      outbox.settle(
        OUTBOX_EXPORTER,
        out.accepted.map(seq),
        out.failed.map((f) => ({ seq: seq(f.row), reason: f.reason })),
      );
      delivered += out.accepted.length;
      failures += out.failed.length;
    }
    if (failures === 0) break;
  }
  const left = outbox.waiting(OUTBOX_EXPORTER);
  return { delivered, remaining: left.rows, ...(left.lastError ? { lastError: left.lastError } : {}) };
}

/** The sentence stderr gets when rows were not delivered. */
export function undeliveredMessage(remaining: number, file: string, reason: string | undefined): string {
  return `${remaining} row(s) for ${SENTINEL_TABLE} were not delivered and wait in the outbox of ${file}${reason ? ` (last failure: ${reason})` : ""}; run azure-exec-audit export sentinel --state ${file} to send them`;
}
