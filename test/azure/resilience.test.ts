/**
 * Regression tests for three faults the fault matrix (test/live/fault-matrix.test.ts) found:
 * a server that never answers held the scan for ever (no request timeout), a Retry-After of an
 * hour was waited out six times per read, and a token refused before its announced expiry
 * failed every later read of the scan (the bearer policy does not renew on a plain 401).
 */
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import {
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import {
  netSettings,
  RenewableCredential,
  refusedTokenPolicy,
  retryAfterCapPolicy,
  timeoutPolicy,
} from "../../src/azure/live/resilience.js";

function respond(request: PipelineRequest, status: number, headers: Record<string, string> = {}): PipelineResponse {
  return { request, status, headers: createHttpHeaders(headers), bodyAsText: "{}" };
}

describe("netSettings", () => {
  it("defaults, and the test-only knobs", () => {
    expect(netSettings({})).toEqual({
      retryDelayMs: 800,
      maxRetryDelayMs: 30_000,
      requestTimeoutMs: 120_000,
      queryTimeoutMs: 660_000,
      maxRetryAfterMs: 120_000,
    });
    const t = netSettings({
      AZURE_EXEC_AUDIT_TEST_RETRY_DELAY_MS: "25",
      AZURE_EXEC_AUDIT_TEST_REQUEST_TIMEOUT_MS: "900",
    });
    expect(t).toEqual({
      retryDelayMs: 25,
      maxRetryDelayMs: 200,
      requestTimeoutMs: 900,
      queryTimeoutMs: 900,
      maxRetryAfterMs: 200,
    });
    expect(netSettings({ AZURE_EXEC_AUDIT_TEST_RETRY_DELAY_MS: "-1" }).retryDelayMs).toBe(800);
  });
});

describe("timeoutPolicy", () => {
  it("times each whole attempt (a body that stalls too), tries once more, then fails in words", async () => {
    let attempts = 0;
    // Answers nothing until aborted, as a server that stalls mid-body does: the SDK is still
    // reading the body, so only the attempt's abort signal ends it.
    const client: HttpClient = {
      sendRequest: (request) =>
        new Promise((_resolve, reject) => {
          attempts++;
          request.abortSignal?.addEventListener("abort", () =>
            reject(new Error("Error reading response as text: aborted")),
          );
        }),
    };
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(timeoutPolicy(50));
    const request = createPipelineRequest({ url: "https://example.test/x" });
    await expect(pipeline.sendRequest(client, request)).rejects.toThrow(
      "no answer within 0.1 s, twice (request timed out)",
    );
    expect(attempts).toBe(2);
    expect(request.abortSignal).toBeUndefined();
  });

  it("an answer within the time is passed on, and its timer does not outlive it", async () => {
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(timeoutPolicy(50));
    let signal: AbortSignal | undefined;
    const r = await pipeline.sendRequest(
      {
        sendRequest: async (q) => {
          signal = q.abortSignal as AbortSignal;
          return respond(q, 200);
        },
      },
      createPipelineRequest({ url: "https://example.test/x" }),
    );
    expect(r.status).toBe(200);
    await new Promise((res) => setTimeout(res, 80));
    expect(signal?.aborted).toBe(false);
  });

  it("a timeout that is the scan's own abort is passed on as it is", async () => {
    const controller = new AbortController();
    controller.abort();
    const client: HttpClient = {
      sendRequest: async () => {
        const e = new Error("The operation was aborted.");
        e.name = "AbortError";
        throw e;
      },
    };
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(timeoutPolicy(50));
    const request = createPipelineRequest({ url: "https://example.test/x", abortSignal: controller.signal });
    await expect(pipeline.sendRequest(client, request)).rejects.toThrow("The operation was aborted.");
  });
});

describe("retryAfterCapPolicy", () => {
  it("caps an hour-long Retry-After (seconds, ms and HTTP-date forms) and leaves short ones alone", async () => {
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(retryAfterCapPolicy(120_000));
    const send = (headers: Record<string, string>) =>
      pipeline.sendRequest(
        { sendRequest: async (r) => respond(r, 429, headers) },
        createPipelineRequest({ url: "https://example.test/x" }),
      );
    expect((await send({ "retry-after": "3600" })).headers.get("retry-after")).toBe("120");
    expect((await send({ "retry-after": "7" })).headers.get("retry-after")).toBe("7");
    expect((await send({ "x-ms-retry-after-ms": "9000000" })).headers.get("x-ms-retry-after-ms")).toBe("120000");
    const date = new Date(Date.now() + 3_600_000).toUTCString();
    expect((await send({ "retry-after": date })).headers.get("retry-after")).toBe("120");
  });

  it("under a second (the test knob), says it in milliseconds too", async () => {
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(retryAfterCapPolicy(200));
    const r = await pipeline.sendRequest(
      { sendRequest: async (q) => respond(q, 429, { "retry-after": "3600" }) },
      createPipelineRequest({ url: "https://example.test/x" }),
    );
    expect(r.headers.get("retry-after-ms")).toBe("200");
  });
});

describe("RenewableCredential and refusedTokenPolicy", () => {
  /** An identity library's credential: caches its token, and skips the cache for a claims request. */
  function identity() {
    let n = 0;
    let cached: AccessToken | undefined;
    const calls: (string | undefined)[] = [];
    const credential: TokenCredential = {
      getToken: async (_scopes, options) => {
        calls.push(options?.claims);
        if (!cached || options?.claims) cached = { token: `t${++n}`, expiresOnTimestamp: Date.now() + 3_600_000 };
        return cached;
      },
    };
    return { credential, calls };
  }

  it("a 401 invalid_token: the token is renewed past the cache and the request sent once more with it", async () => {
    const id = identity();
    const cred = new RenewableCredential(id.credential);
    const first = (await cred.getToken("https://management.azure.com/.default")) as AccessToken;
    expect(first.token).toBe("t1");
    const seen: string[] = [];
    const client: HttpClient = {
      sendRequest: async (r) => {
        const auth = r.headers.get("authorization") ?? "";
        seen.push(auth);
        return auth === "Bearer t1"
          ? respond(r, 401, {
              "www-authenticate":
                'Bearer authorization_uri="https://login.example.test/t", error="invalid_token", error_description="The access token has expired."',
            })
          : respond(r, 200);
      },
    };
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(refusedTokenPolicy(cred));
    const request = createPipelineRequest({ url: "https://example.test/x" });
    request.headers.set("authorization", "Bearer t1");
    const r = await pipeline.sendRequest(client, request);
    expect(r.status).toBe(200);
    expect(seen).toEqual(["Bearer t1", "Bearer t2"]);
    // The cached copy the SDK's bearer policy holds now reads as expired, so it asks again.
    expect(first.expiresOnTimestamp).toBe(0);
    expect(id.calls.at(-1)).toMatch(/"nbf"/);
    // And asking again gives the new token, not the refused one.
    expect((await cred.getToken("https://management.azure.com/.default"))?.token).toBe("t2");
  });

  it("requests refused together share one renewal", async () => {
    const id = identity();
    const cred = new RenewableCredential(id.credential);
    await cred.getToken("s");
    const [a, b] = await Promise.all([cred.renew("t1"), cred.renew("t1")]);
    expect([a?.token, b?.token]).toEqual(["t2", "t2"]);
    expect(id.calls.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it("a 401 without invalid_token, or with a claims challenge (the bearer policy's), is left alone", async () => {
    const id = identity();
    const cred = new RenewableCredential(id.credential);
    await cred.getToken("s");
    for (const challenge of [
      'Bearer realm="https://r.example.test/oauth2/token",service="r.example.test"',
      'Bearer error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="',
    ]) {
      let sent = 0;
      const pipeline = createEmptyPipeline();
      pipeline.addPolicy(refusedTokenPolicy(cred));
      const request = createPipelineRequest({ url: "https://example.test/x" });
      request.headers.set("authorization", "Bearer t1");
      const r = await pipeline.sendRequest(
        {
          sendRequest: async (q) => {
            sent++;
            return respond(q, 401, { "www-authenticate": challenge });
          },
        },
        request,
      );
      expect([r.status, sent]).toEqual([401, 1]);
    }
  });
});
