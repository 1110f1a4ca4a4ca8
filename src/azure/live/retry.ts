/**
 * A retry for what the SDK's own retry policies let through: a response whose body was cut off
 * mid-way (the connection closed before Content-Length bytes arrived). core-rest-pipeline reports
 * it as "Error reading response as text: aborted" and does not retry it; a list page read that
 * way would otherwise fail the whole scope. Retried a few times with backoff and jitter, unless
 * the scan itself was aborted. The same retry wraps reads whose body is consumed outside the
 * pipeline (a registry blob streamed by the ACR client).
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

const CUT_BODY = /error reading response|aborted|premature close|socket hang up|ECONNRESET/i;
const ATTEMPTS = 4;

/** Runs `read` again, with backoff, while it fails the way a cut-off body fails. */
export async function retryCutBody<T>(read: () => Promise<T>, signal?: AbortSignal, baseDelayMs = 400): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (attempt >= ATTEMPTS || signal?.aborted || !CUT_BODY.test(message)) throw e;
      const delay = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export function cutBodyRetryPolicy(baseDelayMs = 400): PipelinePolicy {
  return {
    name: "azureExecAuditCutBodyRetry",
    sendRequest: (request, next) =>
      retryCutBody(() => next(request), request.abortSignal as AbortSignal | undefined, baseDelayMs),
  };
}
