/**
 * Reading ARM as the raw JSON the REST API returns — the shapes the normalisers already read
 * from files (REST spec examples) — whatever client makes the call:
 * - `BodyCapture` sits in an Azure SDK client's pipeline and hands back each page's body as
 *   sent, so no SDK model (camel-cased, dates as Date) is ever pushed through shape detection;
 * - `ArmReader` GETs resource types no installed SDK package covers (run commands, extensions,
 *   container groups, management-group descendants, ACR tasks) and bodies that are not JSON
 *   (runbook scripts), with the same pipeline: credential, retries, the limiter.
 * And `explain`: one sentence for a failed read, naming the role that would fix a 403.
 */
import type { TokenCredential } from "@azure/core-auth";
import { ServiceClient } from "@azure/core-client";
import { createPipelineRequest, type PipelinePolicy, RestError } from "@azure/core-rest-pipeline";
import { isObj, type Json } from "../normalize/util.js";
import type { ArmClientOptions } from "./session.js";

export interface RawPage {
  /** The request URL of the page (its location for records and problems). */
  url: string;
  items: Json[];
}

/** Bodies that are not a JSON object (an HTML error page, a cut response). */
export class UnreadablePage extends Error {}

function parseBody(url: string, text: string | null | undefined): Json {
  let body: unknown;
  try {
    body = JSON.parse(text ?? "");
  } catch {
    throw new UnreadablePage(`the response to ${stripQuery(url)} is not JSON`);
  }
  if (!isObj(body)) throw new UnreadablePage(`the response to ${stripQuery(url)} is not a JSON object`);
  return body;
}

/** A URL without its query string (SAS tokens, skip tokens) for messages. */
export function stripQuery(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Captures the bodies of the successful responses of one SDK client, as sent: its `policy` goes
 * into that client's options (per call, so only the final attempt is seen). Works the same for
 * the older (core-client) and the newer (TypeSpec, rest-level) SDK generations, whose next-page
 * requests do not carry per-operation callbacks. Use one capture per client, one call at a time.
 */
export class BodyCapture {
  private readonly bodies: { url: string; text: string | null | undefined }[] = [];

  readonly policy: PipelinePolicy = {
    name: "azureExecAuditBodyCapture",
    sendRequest: async (request, next) => {
      const response = await next(request);
      if (response.status >= 200 && response.status < 300)
        this.bodies.push({ url: request.url, text: response.bodyAsText });
      return response;
    },
  };

  /** The raw pages behind an SDK paged list, in order. */
  async *pages(list: { byPage(): AsyncIterable<unknown> }): AsyncGenerator<RawPage> {
    this.bodies.length = 0;
    for await (const _ of list.byPage()) {
      while (this.bodies.length > 0) {
        const b = this.bodies.shift() as { url: string; text: string | null | undefined };
        const body = parseBody(b.url, b.text);
        yield { url: b.url, items: Array.isArray(body.value) ? body.value.filter(isObj) : [] };
      }
    }
  }

  /** The raw body of one SDK call (a GET, or a POST …/list). */
  async body(call: () => Promise<unknown>): Promise<{ url: string; body: Json }> {
    this.bodies.length = 0;
    await call();
    const b = this.bodies.pop();
    if (!b) throw new UnreadablePage("the SDK call returned no response body");
    return { url: b.url, body: parseBody(b.url, b.text) };
  }
}

/** GETs of ARM paths with the session's pipeline, for resource types without an SDK package here. */
export class ArmReader {
  private readonly client: ServiceClient;

  constructor(
    credential: TokenCredential,
    private readonly options: ArmClientOptions,
  ) {
    this.client = new ServiceClient({
      credential,
      credentialScopes: options.credentialScopes,
      endpoint: options.endpoint,
      retryOptions: options.retryOptions,
      additionalPolicies: options.additionalPolicies,
      userAgentOptions: options.userAgentOptions,
    });
  }

  /** One GET; throws a RestError for any status but 200. */
  async get(pathOrUrl: string, apiVersion: string, abortSignal?: AbortSignal): Promise<{ url: string; body: Json }> {
    const { url, text } = await this.send(pathOrUrl, apiVersion, abortSignal);
    return { url, body: parseBody(url, text) };
  }

  /**
   * One GET of a body that is not JSON (an Automation runbook's script, `text/powershell`), cut to
   * `maxChars` (+1, so a caller can tell it was longer) as soon as it arrives. The text is data:
   * never parsed, run or followed. Throws a RestError for any status but 200, as `get` does.
   */
  async getText(
    pathOrUrl: string,
    apiVersion: string,
    maxChars: number,
    abortSignal?: AbortSignal,
  ): Promise<{ url: string; text: string }> {
    const { url, text } = await this.send(pathOrUrl, apiVersion, abortSignal);
    return { url, text: (text ?? "").slice(0, maxChars + 1) };
  }

  private async send(
    pathOrUrl: string,
    apiVersion: string,
    abortSignal?: AbortSignal,
  ): Promise<{ url: string; text: string | undefined }> {
    const url = this.url(pathOrUrl, apiVersion);
    const response = await this.client.sendRequest(
      createPipelineRequest({ url, method: "GET", ...(abortSignal ? { abortSignal } : {}) }),
    );
    if (response.status !== 200) {
      let code: string | undefined;
      let message = `HTTP ${response.status}`;
      try {
        const err = JSON.parse(response.bodyAsText ?? "") as { error?: { code?: string; message?: string } };
        code = err.error?.code;
        if (err.error?.message) message = err.error.message;
      } catch {
        // Not an ARM error body; the status says enough.
      }
      throw new RestError(message, { statusCode: response.status, ...(code ? { code } : {}), response });
    }
    return { url, text: response.bodyAsText ?? undefined };
  }

  /** A list and its next links, page by page. */
  async *list(path: string, apiVersion: string, abortSignal?: AbortSignal): AsyncGenerator<RawPage> {
    let next: string | undefined = this.url(path, apiVersion);
    while (next) {
      const { url, body } = await this.get(next, apiVersion, abortSignal);
      yield { url, items: Array.isArray(body.value) ? body.value.filter(isObj) : [] };
      next = typeof body.nextLink === "string" && body.nextLink ? body.nextLink : undefined;
    }
  }

  private url(pathOrUrl: string, apiVersion: string): string {
    if (/^https:\/\//i.test(pathOrUrl)) {
      // Next links are absolute; keep them on this cloud's endpoint (never follow one elsewhere).
      const u = new URL(pathOrUrl);
      const base = new URL(this.options.endpoint);
      if (u.host !== base.host)
        throw new UnreadablePage(`a next link points away from ${base.host}: ${stripQuery(pathOrUrl)}`);
      return pathOrUrl;
    }
    const sep = pathOrUrl.includes("?") ? "&" : "?";
    return `${this.options.endpoint}${pathOrUrl}${sep}api-version=${apiVersion}`;
  }
}

/** What a failed read needs, for the sentence `explain` writes. */
export interface Needs {
  /** What was being read ("the Activity Log", "role assignments", …). */
  what: string;
  /** The built-in role (or action) that grants it, named in docs/permissions.md. */
  role: string;
}

/** One sentence for a read that failed after the SDK's retries. */
export function explain(e: unknown, scope: string, needs: Needs): string {
  // By shape, not instanceof: SDK packages may each bring their own copy of core-rest-pipeline.
  if (isRestErrorLike(e)) {
    const status = e.statusCode;
    const code = e.code ? ` (${e.code})` : "";
    if (status === 403)
      return `not authorised to read ${needs.what} of ${scope}${code}: grant the scanning identity ${needs.role} on it (docs/permissions.md)`;
    if (status === 401)
      return `the token was refused reading ${needs.what} of ${scope}${code}; sign in again or check the tenant`;
    if (status === 404) {
      // A subscription the user named may be mistyped or invisible to this identity; anything
      // else was listed a moment ago.
      if (e.code === "SubscriptionNotFound")
        return `${scope} was not found reading ${needs.what}${code}: check the id, and that the scanning identity can see it (az account list)`;
      if (e.code === "BLOB_UNKNOWN" || e.code === "MANIFEST_UNKNOWN")
        return `${scope} is not in the registry (${e.code}) reading ${needs.what}`;
      return `${scope} was not found reading ${needs.what}${code}: it may have been deleted or moved since it was listed`;
    }
    if (status === 429) return `${needs.what} of ${scope} stayed throttled after retries${code}`;
    if (status !== undefined)
      return `reading ${needs.what} of ${scope} failed with HTTP ${status}${code} after retries: ${oneLine(e.message)}`;
    return `reading ${needs.what} of ${scope} failed after retries: ${oneLine(e.message)}`;
  }
  return `reading ${needs.what} of ${scope} failed: ${oneLine(e instanceof Error ? e.message : String(e))}`;
}

function isRestErrorLike(e: unknown): e is { statusCode?: number; code?: string; message: string } {
  return (
    e instanceof RestError ||
    (e instanceof Error && (e.name === "RestError" || typeof (e as { statusCode?: unknown }).statusCode === "number"))
  );
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim().slice(0, 240);
}
