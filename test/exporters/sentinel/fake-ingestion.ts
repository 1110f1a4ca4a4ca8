/**
 * A loopback fake of the Logs Ingestion API and of the Entra ID token endpoint it needs, over TLS
 * with a throw-away CA (emulator/tls.ts). Shapes follow the 2023-01-01 Upload operation
 * (test/fixtures/reference/ingestion/post_IngestUsingDataCollectionRule.json and SOURCES.md):
 * `POST /dataCollectionRules/{ruleId}/streams/{stream}?api-version=2023-01-01`, a gzipped JSON
 * array, a bearer token; 204 when accepted, else `{"error": {"code", "message"}}` with
 * `x-ms-error-code`. The token endpoints are those VERIFIED.md lists for a custom authority.
 *
 * Every call is recorded (headers, compressed and plain sizes, rows); a test scripts failures
 * with `respond`, and reads what was accepted (a 204) to check exactly-once delivery.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { openIdConfiguration } from "../../../emulator/auth.ts";
import { makeTls, type TlsMaterial } from "../../../emulator/tls.ts";

export const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const CLIENT_ID = "0b5f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
export const CLIENT_SECRET = "fake-ingestion-test-secret";
export const RULE_ID = "dcr-00000000000000000000000000000001";
export const STREAM = "Custom-AzureExecAudit_CL";

export interface Call {
  n: number;
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  contentEncoding: string | undefined;
  contentType: string | undefined;
  compressedBytes: number;
  plainBytes: number;
  rows: Record<string, unknown>[];
  status: number;
}

export interface Scripted {
  status: number;
  headers?: Record<string, string>;
}

export interface FakeIngestion {
  url: string;
  authorityHost: string;
  tls: TlsMaterial;
  calls: Call[];
  scopes: string[];
  tokens: Set<string>;
  /** Rows of the calls answered 204, in order. */
  accepted(): Record<string, unknown>[];
  /** Decides a call's answer (undefined: 204). */
  respond: (call: Omit<Call, "status">) => Scripted | undefined;
  env(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** A JWT-shaped token (unsigned) carrying the tenant, as Entra ID's access tokens do (`tid`). */
function fakeToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ typ: "JWT", alg: "none" })}.${part({ tid: TENANT, jti: randomUUID() })}.sig`;
}

export async function startFakeIngestion(): Promise<FakeIngestion> {
  const tls = await makeTls();
  const calls: Call[] = [];
  const scopes: string[] = [];
  const tokens = new Set<string>();
  let base = "";
  const fake: FakeIngestion = {
    url: "",
    authorityHost: "",
    tls,
    calls,
    scopes,
    tokens,
    accepted: () => calls.filter((c) => c.status === 204).flatMap((c) => c.rows),
    respond: () => undefined,
    env: () => ({
      NODE_EXTRA_CA_CERTS: tls.caFile,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_CLIENT_SECRET: CLIENT_SECRET,
      AZURE_AUTHORITY_HOST: base,
    }),
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, async (req, res) => {
    const url = new URL(req.url ?? "/", base);
    const body = await read(req);
    const send = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...(json === undefined ? {} : { "content-type": "application/json" }), ...headers });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    if (req.method === "GET" && /\/v2\.0\/\.well-known\/openid-configuration$/.test(url.pathname)) {
      const tenant = url.pathname.split("/")[1] as string;
      const reply = openIdConfiguration(base, tenant);
      return send(reply.status, reply.body);
    }
    if (req.method === "POST" && /\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
      const form = new URLSearchParams(body.toString("utf8"));
      scopes.push(form.get("scope") ?? "");
      if (form.get("client_secret") !== CLIENT_SECRET)
        return send(401, {
          error: "invalid_client",
          error_description: "AADSTS7000215: Invalid client secret provided.",
        });
      const token = fakeToken();
      tokens.add(token);
      return send(200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }
    const m = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(url.pathname);
    if (req.method === "POST" && m) {
      let plain = body;
      if (req.headers["content-encoding"] === "gzip") plain = gunzipSync(body);
      const rows = JSON.parse(plain.toString("utf8")) as Record<string, unknown>[];
      const call: Omit<Call, "status"> = {
        n: calls.length,
        path: url.pathname,
        apiVersion: url.searchParams.get("api-version"),
        authorization: req.headers.authorization,
        contentEncoding: req.headers["content-encoding"],
        contentType: req.headers["content-type"],
        compressedBytes: body.length,
        plainBytes: plain.length,
        rows,
      };
      const bearer = req.headers.authorization?.replace(/^Bearer /, "") ?? "";
      let answer: Scripted | undefined;
      if (!tokens.has(bearer)) answer = { status: 401 };
      else if (m[1] !== RULE_ID || decodeURIComponent(m[2] as string) !== STREAM) answer = { status: 404 };
      else answer = fake.respond(call);
      const status = answer?.status ?? 204;
      calls.push({ ...call, status });
      if (status === 204) return send(204, undefined, answer?.headers);
      const code = status === 429 ? "TooManyRequests" : status === 401 ? "InvalidToken" : `Status${status}`;
      return send(
        status,
        { error: { code, message: `fake ingestion answered ${status}` } },
        {
          "x-ms-error-code": code,
          ...answer?.headers,
        },
      );
    }
    send(404, { error: { code: "NotFound", message: `no route ${req.method} ${url.pathname}` } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  base = `https://localhost:${port}`;
  fake.url = base;
  fake.authorityHost = base;
  return fake;
}
