/**
 * What the SDK's own retry policies do not cover, for every live client:
 * - a request timeout per attempt: a server that accepts the connection and never answers would
 *   otherwise hold the scan for ever (core-rest-pipeline sets no timeout by default);
 * - a token the service refuses before the identity library thinks it expired (a clock skew, a
 *   token revoked early): ARM answers 401 with `WWW-Authenticate: Bearer … error="invalid_token"`
 *   and no claims challenge, which the bearer policy does not act on, so every later read of the
 *   scan would fail with the same cached token. The session's credential remembers the refused
 *   token, the cached copy is marked expired, and the request is sent once more with a new one.
 * - a Retry-After longer than the scan can sensibly wait (a throttling storm that says "an
 *   hour"): the SDK's throttling retry waits whatever the header says, up to six times per read,
 *   so one such answer would hold the scan for hours. The wait is capped; a read still throttled
 *   after the retries is a coverage gap ("stayed throttled after retries").
 * And the timing settings, with the test-only knobs that shorten them (docs/emulator.md).
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { type PipelinePolicy, RestError } from "@azure/core-rest-pipeline";

export interface NetSettings {
  /** The SDK retry policy's first delay and its cap (ms). */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Per attempt: how long to wait for a whole answer, headers and body (ms). */
  requestTimeoutMs: number;
  /** The same for Log Analytics queries, which the service itself lets run up to 10 minutes. */
  queryTimeoutMs: number;
  /** The longest Retry-After honoured (ms). */
  maxRetryAfterMs: number;
}

const DEFAULTS: NetSettings = {
  retryDelayMs: 800,
  maxRetryDelayMs: 30_000,
  requestTimeoutMs: 120_000,
  queryTimeoutMs: 11 * 60_000,
  maxRetryAfterMs: 120_000,
};

/**
 * The settings, shortened for tests by AZURE_EXEC_AUDIT_TEST_RETRY_DELAY_MS (the first retry
 * delay; its cap and the longest Retry-After honoured become 8 times it) and AZURE_EXEC_AUDIT_TEST_REQUEST_TIMEOUT_MS (both
 * timeouts). Test-only: not in --help; a value that is not a positive whole number is ignored.
 */
export function netSettings(env: NodeJS.ProcessEnv = process.env): NetSettings {
  const n = (v: string | undefined) => (v && /^[1-9][0-9]{0,8}$/.test(v) ? Number(v) : undefined);
  const delay = n(env.AZURE_EXEC_AUDIT_TEST_RETRY_DELAY_MS);
  const timeout = n(env.AZURE_EXEC_AUDIT_TEST_REQUEST_TIMEOUT_MS);
  return {
    retryDelayMs: delay ?? DEFAULTS.retryDelayMs,
    maxRetryDelayMs: delay !== undefined ? delay * 8 : DEFAULTS.maxRetryDelayMs,
    requestTimeoutMs: timeout ?? DEFAULTS.requestTimeoutMs,
    queryTimeoutMs: timeout ?? DEFAULTS.queryTimeoutMs,
    maxRetryAfterMs: delay !== undefined ? delay * 8 : DEFAULTS.maxRetryAfterMs,
  };
}

/**
 * Gives each attempt `ms` to be answered in full — headers and body, which the SDK reads before
 * the response comes back (core-rest-pipeline's own `timeout` stops at the headers, so a server
 * that sends half a body and stalls would hold the scan for ever) — and one more attempt after a
 * timeout; a second timeout fails the read with a sentence that says so (not "The operation was
 * aborted"), which no other retry repeats: a server that does not answer twice is reported, not
 * waited on for the SDK's six retries. A body handed back as a stream (a registry blob) is not
 * timed once handed back. The scan's own abort passes through unchanged.
 */
export function timeoutPolicy(ms: number): PipelinePolicy {
  return {
    name: "azureExecAuditTimeout",
    sendRequest: async (request, next) => {
      const outer = request.abortSignal;
      for (let attempt = 1; ; attempt++) {
        const controller = new AbortController();
        const stop = () => controller.abort();
        outer?.addEventListener("abort", stop, { once: true });
        const timer = setTimeout(stop, ms);
        request.abortSignal = controller.signal;
        try {
          return await next(request);
        } catch (e) {
          if (outer?.aborted || !controller.signal.aborted) throw e;
          if (attempt >= 2)
            throw new RestError(`no answer within ${Math.round(ms / 100) / 10} s, twice (request timed out)`, {
              code: "REQUEST_TIMEOUT",
            });
        } finally {
          clearTimeout(timer);
          outer?.removeEventListener("abort", stop);
          request.abortSignal = outer;
        }
      }
    },
  };
}

const RETRY_AFTER_HEADERS = ["retry-after-ms", "x-ms-retry-after-ms", "retry-after"] as const;

/** Caps the Retry-After of an answer (all three forms the SDK reads) at `ms` before the retry policy reads it. */
export function retryAfterCapPolicy(ms: number): PipelinePolicy {
  return {
    name: "azureExecAuditRetryAfterCap",
    sendRequest: async (request, next) => {
      const response = await next(request);
      for (const h of RETRY_AFTER_HEADERS) {
        const v = response.headers.get(h);
        if (v === undefined) continue;
        const n = Number(v);
        // Seconds (or ms for the -ms forms), or an HTTP date.
        const waitMs = Number.isFinite(n) ? (h === "retry-after" ? n * 1000 : n) : Date.parse(v) - Date.now();
        if (!(waitMs <= ms))
          response.headers.set(h, h === "retry-after" ? String(Math.max(0, Math.floor(ms / 1000))) : String(ms));
      }
      // Whole seconds cannot say less than one: say it in milliseconds too, which the SDK reads first.
      if (
        ms < 1000 &&
        response.headers.get("retry-after") !== undefined &&
        response.headers.get("retry-after-ms") === undefined
      )
        response.headers.set("retry-after-ms", String(ms));
      return response;
    },
  };
}

/** A claims request that makes the identity library skip its cache: a token issued from now on. */
function freshClaims(): string {
  return JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } } });
}

/**
 * The session's credential: the chosen one, plus `renew(token)` for a token the service turned
 * down. Tokens it hands out are its own copies, so that a refused one can be marked expired where
 * the SDK's bearer policy caches it (the policy then asks for a new one before the next request).
 */
export class RenewableCredential implements TokenCredential {
  private readonly handed = new Map<string, { scopes: string | string[]; at: number; copies: AccessToken[] }>();
  private readonly refused = new Set<string>();
  /** The latest renewal per scope set: requests refused together share it. */
  private readonly renewals = new Map<string, { at: number; token: Promise<AccessToken | null> }>();

  constructor(readonly inner: TokenCredential) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    let t = await this.inner.getToken(scopes, options);
    if (t && this.refused.has(t.token)) t = await this.fresh(scopes, options, t);
    return t ? this.hand(t, scopes) : t;
  }

  private hand(t: AccessToken, scopes: string | string[]): AccessToken {
    const mine: AccessToken = { ...t };
    const entry = this.handed.get(t.token) ?? { scopes, at: Date.now(), copies: [] };
    if (entry.copies.length < 64) entry.copies.push(mine);
    this.handed.set(t.token, entry);
    return mine;
  }

  /**
   * A token issued from now on, past the identity library's cache (which may hold the refused
   * token, or another issued before the refusal): the continuous access evaluation claims form,
   * which every Entra ID credential passes on. A credential that takes no claims (Azure CLI, which
   * keeps no cache here) is simply asked again.
   */
  private async fresh(
    scopes: string | string[],
    options: GetTokenOptions | undefined,
    fallback: AccessToken | null,
  ): Promise<AccessToken | null> {
    try {
      return (await this.inner.getToken(scopes, { ...options, claims: freshClaims() })) ?? fallback;
    } catch {
      try {
        return (await this.inner.getToken(scopes, options)) ?? fallback;
      } catch {
        return fallback;
      }
    }
  }

  /**
   * Marks `token` expired everywhere it was handed out and returns a new token for the same
   * scopes (undefined when the token is not one of this credential's, or no other can be had).
   */
  async renew(token: string, options?: GetTokenOptions): Promise<AccessToken | undefined> {
    const entry = this.handed.get(token);
    if (!entry) return undefined;
    if (this.refused.size > 1000) this.refused.clear();
    this.refused.add(token);
    for (const t of entry.copies) {
      t.expiresOnTimestamp = 0;
      t.refreshAfterTimestamp = 0;
    }
    const key = JSON.stringify(entry.scopes);
    let renewal = this.renewals.get(key);
    // A renewal started after this token was handed out gave a newer one: share it.
    if (!renewal || renewal.at < entry.at) {
      renewal = { at: Date.now(), token: this.fresh(entry.scopes, options, null) };
      this.renewals.set(key, renewal);
    }
    const next = await renewal.token;
    if (!next || next.token === token || this.refused.has(next.token)) return undefined;
    return this.hand(next, entry.scopes);
  }
}

const INVALID_TOKEN = /error\s*=\s*"?invalid_token/i;

/**
 * One more attempt, with a new token, for a request whose token the service refused as expired or
 * invalid (401 with `error="invalid_token"`; a claims challenge is the bearer policy's own).
 */
export function refusedTokenPolicy(credential: RenewableCredential): PipelinePolicy {
  return {
    name: "azureExecAuditRefusedToken",
    sendRequest: async (request, next) => {
      const response = await next(request);
      if (response.status !== 401) return response;
      const challenge = response.headers.get("www-authenticate") ?? "";
      if (!INVALID_TOKEN.test(challenge) || /claims\s*=/i.test(challenge)) return response;
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
      if (!token) return response;
      const renewed = await credential.renew(token, request.abortSignal ? { abortSignal: request.abortSignal } : {});
      if (!renewed) return response;
      // This policy runs after the bearer policy in core-client pipelines (perRetry is after
      // "Sign"), so the new token is set here; a pipeline that signs after it signs again with
      // the same new token (its cached copy of the old one now reads as expired).
      request.headers.set("authorization", `Bearer ${renewed.token}`);
      return next(request);
    },
  };
}
