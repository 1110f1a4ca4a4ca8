/**
 * Sends rows to a data collection rule's stream with @azure/monitor-ingestion's
 * LogsIngestionClient (the Logs Ingestion API; the retired HTTP Data Collector API is not used).
 *
 * The SDK gzips each request, splits the rows into calls under 1 MB (rows.ts keeps every row far
 * below that), retries 429 after Retry-After and 5xx with backoff, and reports each call that
 * still failed through `onError` and one AggregateLogsUploadError: those rows are "failed" here
 * and go back to the outbox. A row is "accepted" only when its call returned 204.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { isAggregateLogsUploadError, LogsIngestionClient } from "@azure/monitor-ingestion";
import type { Finding } from "../../model/finding.js";
import { redactText } from "../../util/redact.js";
import { cap } from "../../util/text.js";
import type { BatchOutcome, Exporter, ExportOptions, ExportScan } from "../types.js";
import { findingRow, rowKey } from "./rows.js";
import type { SentinelRow } from "./schema.js";

/** Where rows go: the ingestion endpoint (the DCR's own, or a DCE), the DCR's immutable id and its stream. */
export interface SentinelTarget {
  endpoint: string;
  ruleId: string;
  stream: string;
}

export interface SenderOptions {
  /** Token audience (KnownMonitorAudience): the public cloud's unless a sovereign cloud is named. */
  audience?: string;
  maxConcurrency?: number;
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** Extra pipeline policies (tests observe requests). */
  additionalPolicies?: { policy: PipelinePolicy; position: "perCall" | "perRetry" }[];
}

export interface UploadOutcome {
  accepted: SentinelRow[];
  failed: { row: SentinelRow; reason: string }[];
}

/** What the outbox flush needs: rows in, which were accepted out. */
export interface RowSender {
  upload(rows: readonly SentinelRow[], options?: { abortSignal?: AbortSignal }): Promise<UploadOutcome>;
}

/** A failed call in one line, for stderr and the outbox's last_error (redacted, capped). */
export function failureReason(e: unknown): string {
  const status = (e as { statusCode?: unknown }).statusCode;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  const first = message.split(/\r?\n/).find((l) => l.trim() !== "") ?? message;
  const prefix = typeof status === "number" ? `HTTP ${status}` : typeof code === "string" ? code : "error";
  return cap(redactText(`${prefix}: ${first.trim()}`), 300);
}

export class IngestionSender implements RowSender {
  private readonly client: LogsIngestionClient;
  private readonly maxConcurrency: number;

  constructor(
    readonly target: SentinelTarget,
    credential: TokenCredential,
    options: SenderOptions = {},
  ) {
    this.client = new LogsIngestionClient(target.endpoint, credential, {
      ...(options.audience ? { audience: options.audience } : {}),
      retryOptions: { maxRetries: 4, retryDelayInMs: 800, maxRetryDelayInMs: 30_000, ...options.retryOptions },
      additionalPolicies: options.additionalPolicies ?? [],
      userAgentOptions: { userAgentPrefix: "azure-exec-audit" },
    });
    this.maxConcurrency = options.maxConcurrency ?? 2;
  }

  async upload(rows: readonly SentinelRow[], options: { abortSignal?: AbortSignal } = {}): Promise<UploadOutcome> {
    if (rows.length === 0) return { accepted: [], failed: [] };
    const failed = new Map<string, string>();
    const note = (logs: readonly Record<string, unknown>[], cause: unknown): void => {
      const reason = failureReason(cause);
      for (const l of logs) failed.set(rowKey(l as unknown as SentinelRow), reason);
    };
    try {
      await this.client.upload(this.target.ruleId, this.target.stream, rows as unknown as Record<string, unknown>[], {
        maxConcurrency: this.maxConcurrency,
        ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
        onError: ({ failedLogs, cause }) => note(failedLogs, cause),
      });
    } catch (e) {
      if (!isAggregateLogsUploadError(e)) throw e;
      for (const f of e.errors) note(f.failedLogs, f.cause);
    }
    // An aborted upload skips the calls it had not started and says nothing of them: no row of it
    // counts as accepted (sent again later; FindingId + ScanId deduplicate).
    if (options.abortSignal?.aborted)
      return {
        accepted: [],
        failed: rows.map((row) => ({ row, reason: failed.get(rowKey(row)) ?? "aborted before it was sent" })),
      };
    const out: UploadOutcome = { accepted: [], failed: [] };
    for (const row of rows) {
      const reason = failed.get(rowKey(row));
      if (reason === undefined) out.accepted.push(row);
      else out.failed.push({ row, reason });
    }
    return out;
  }
}

/**
 * The exporter contract (../types.ts) over the sender: findings in, rows built, sent, and the
 * outcome mapped back to findings. A scan without state uses it directly; with state, rows go
 * through the outbox (outbox.ts) and the sender.
 */
export class SentinelExporter implements Exporter {
  readonly name = "sentinel";
  /** Rows per send; the SDK splits them into calls under 1 MB. */
  readonly maxBatch = 500;

  constructor(
    private readonly sender: RowSender,
    private readonly tenantId = "",
  ) {}

  async send(batch: readonly Finding[], scan: ExportScan, options: ExportOptions): Promise<BatchOutcome> {
    const rows = batch.map((f) => findingRow(f, { ...scan, tenantId: this.tenantId }));
    const byKey = new Map(rows.map((r, i) => [rowKey(r), batch[i] as Finding]));
    const out = await this.sender.upload(rows, options.abortSignal ? { abortSignal: options.abortSignal } : {});
    return {
      accepted: out.accepted.map((r) => byKey.get(rowKey(r)) as Finding),
      rejected: out.failed.map(({ row, reason }) => ({ finding: byKey.get(rowKey(row)) as Finding, reason })),
    };
  }
}

/** The `tid` claim of a JWT access token (unverified: it only labels rows), if there is one. */
export function tenantOfToken(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { tid?: unknown };
    return typeof claims.tid === "string" && /^[0-9a-fA-F-]{36}$/.test(claims.tid) ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}
