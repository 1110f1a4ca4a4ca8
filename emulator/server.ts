/**
 * startEmulator: the HTTPS listeners (one for Entra ID + ARM + Log Analytics, one per registry for
 * the ACR data plane), the request log, and the order in which auth, faults and throttling apply.
 */
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type AcrState, acrHandle } from "./acr.ts";
import { activityRoute } from "./activity-route.ts";
import { type Ctx, type EmulatorEnv, type Route, subscriptionNotFound, tenantRoutes } from "./arm.ts";
import { instanceDiscovery, openIdConfiguration, TokenStore, tokenRequest } from "./auth.ts";
import { computeRoutes } from "./compute.ts";
import { addFault, emptyFaults, type FaultConfig, FaultSampler, Throttle, type ThrottleConfig } from "./faults.ts";
import { graphRoutes } from "./graph.ts";
import { logsRoutes, workspaceIdFor } from "./logs.ts";
import { rbacRoutes } from "./rbac.ts";
import { loadSnapshot, type Snapshot } from "./snapshot.ts";
import { makeTls } from "./tls.ts";
import {
  armError,
  bodyBytes,
  guidFrom,
  lc,
  normalisePath,
  type Reply,
  type RequestLogEntry,
  readBody,
  sendReply,
} from "./util.ts";
import { webRoutes } from "./web.ts";

export interface EmulatorOptions {
  /** Port of the main listener (Entra ID + ARM + Log Analytics); 0 picks one. Default 0. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (URLs use `localhost`, which the certificate covers). */
  host?: string;
  /** Snapshot directory. Default: demo/tenant of this repository. */
  snapshot?: string;
  /** `true` for the default bucket, or its settings. */
  throttle?: boolean | Partial<ThrottleConfig>;
  /** `--fault` values (`forbidden=<sub>`, `5xx=<rate>`, …) or a ready config. */
  faults?: readonly string[] | FaultConfig;
  /** PRNG seed for fault sampling. Default 1. */
  seed?: number;
  /** "auto" (default), "none" or a number of days. */
  timeShift?: "auto" | "none" | number;
  /** Activity Log page size. Default 100. */
  activityPageSize?: number;
  /** Page size of other ARM lists. Default 100. */
  pageSize?: number;
  /** ACR list page size when the client sends no `n`. Default 100. */
  acrPageSize?: number;
  /** Log Analytics rows per answer before it is cut and marked partial. Default 500,000 (the service's cap). */
  logsRowLimit?: number;
  clientId?: string;
  clientSecret?: string;
  /** Token lifetime in seconds (default 3600; `token-expiry` fault overrides). */
  tokenLifetime?: number;
  /** Accept client_assertion (workload identity) for the client id. Default true. */
  acceptAssertion?: boolean;
  /** Allow anonymous pull on the registries (grant_type=password, empty refresh token). Default false. */
  anonymousPull?: boolean;
  /** Directory for ca.pem. Default: a new temporary directory. */
  caDir?: string;
}

export interface EmulatorInfo {
  armEndpoint: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caFile: string;
}

export interface RunningEmulator {
  info: EmulatorInfo;
  /** The CA certificate (PEM), for in-process clients (tls.setDefaultCACertificates). */
  caPem: string;
  /** Registry name → `https://localhost:PORT` of its data-plane listener. */
  registries: Record<string, string>;
  /** Log Analytics query endpoint for @azure/monitor-query-logs (`{armEndpoint}/v1`). */
  logsEndpoint: string;
  /** The one workspace served there: every subscription's Activity Log as AzureActivity rows. */
  workspaceId: string;
  /** Every handled request, in order. */
  requests: RequestLogEntry[];
  tokens: TokenStore;
  snapshot: Snapshot;
  close(): Promise<void>;
}

const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const THROTTLE_DEFAULT: ThrottleConfig = { enabled: true, capacity: 10, refillPerSecond: 2 };
const ROUTES: Route[] = [
  ...tenantRoutes,
  activityRoute,
  ...rbacRoutes,
  ...webRoutes,
  ...computeRoutes,
  ...graphRoutes,
  ...logsRoutes,
];

/** The client id of the emulated reader application: a fixed GUID, so logs and docs can name it. */
export const DEFAULT_CLIENT_ID = guidFrom(
  createHash("sha256").update("azure-exec-audit emulator reader").digest("hex"),
);

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(port, host, () => {
      server.off("error", rej);
      res((server.address() as AddressInfo).port);
    });
  });
}

function actionFor(method: string, path: string): string {
  const segs = path.split("/").filter(Boolean);
  let p = -1;
  for (let i = 0; i < segs.length; i++) if (lc(segs[i]) === "providers") p = i;
  if (p < 0 || p + 1 >= segs.length) {
    const types = ["Microsoft.Resources", ...segs.filter((_s, i) => i % 2 === 0)];
    return `${types.join("/")}/${method === "GET" ? "read" : "action"}`;
  }
  const after = segs.slice(p + 1);
  const types = after.filter((_s, i) => i % 2 === 1);
  if (method === "POST") {
    const last = after[after.length - 1] as string;
    if (types[types.length - 1] === last) types.pop();
    return `${[after[0], ...types].join("/")}/${last}/action`;
  }
  return `${[after[0], ...types].join("/")}/read`;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? "127.0.0.1";
  const snap = loadSnapshot(resolve(options.snapshot ?? resolve(REPO_ROOT, "demo/tenant")), {
    timeShift: options.timeShift ?? "auto",
  });
  let faults: FaultConfig;
  if (options.faults && !Array.isArray(options.faults)) faults = options.faults as FaultConfig;
  else {
    faults = emptyFaults();
    for (const f of (options.faults as readonly string[] | undefined) ?? []) addFault(faults, f);
  }
  const throttleCfg: ThrottleConfig =
    options.throttle === true
      ? THROTTLE_DEFAULT
      : options.throttle
        ? { ...THROTTLE_DEFAULT, ...options.throttle, enabled: options.throttle.enabled ?? true }
        : { ...THROTTLE_DEFAULT, enabled: false };
  const throttle = new Throttle(throttleCfg);
  const sampler = new FaultSampler(faults, options.seed ?? 1);
  const tls = await makeTls(options.caDir);
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("base64url");
  const tokenLifetime = faults.tokenExpiry ?? options.tokenLifetime ?? 3600;
  const tokens = new TokenStore({
    tenantId: snap.tenantId,
    clientId,
    clientSecret,
    tokenLifetime,
    acceptAssertion: options.acceptAssertion ?? true,
  });
  const objectId = guidFrom(createHash("sha256").update(`object:${clientId}`).digest("hex"));
  const requests: RequestLogEntry[] = [];
  /** `token-revoke=<s>`: the moment every token issued before it stops being accepted. */
  const revokedAt = faults.tokenRevoke === undefined ? undefined : Date.now() + faults.tokenRevoke * 1000;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];

  const mkServer = (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const s = createServer({ key: tls.keyPem, cert: tls.certPem }, handler);
    s.on("connection", (sock: Socket) => {
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
    });
    s.on("tlsClientError", () => {});
    servers.push(s);
    return s;
  };

  /**
   * ARM and Log Analytics bodies name each registry by the login server it has here
   * (`localhost:<port>`), not the snapshot's (`<name>.azurecr.io`): container groups, import
   * events and app settings then point at the registry this emulator serves, as they would in a
   * real tenant. Registry manifests and blobs are never rewritten (their digests must hold).
   */
  const servedAs = (bytes: Buffer): Buffer => {
    let text: string | undefined;
    for (const reg of snap.registries) {
      const served = env.loginServers.get(reg.name.toLowerCase());
      if (!served || !reg.snapshotLoginServer) continue;
      text ??= bytes.toString("utf8");
      if (text.includes(reg.snapshotLoginServer)) text = text.split(reg.snapshotLoginServer).join(served);
    }
    return text === undefined ? bytes : Buffer.from(text, "utf8");
  };

  /** Write a reply with the fault drawn for this request; log it. */
  const finish = async (
    req: IncomingMessage,
    res: ServerResponse,
    front: string,
    reply: Reply,
    drawn: ReturnType<FaultSampler["draw"]> | undefined,
    fault: string | undefined,
  ) => {
    const url = req.url ?? "/";
    const entry: RequestLogEntry = {
      method: req.method ?? "GET",
      path: url.split("?")[0] as string,
      url,
      status: reply.status,
      front,
    };
    if (fault) entry.fault = fault;
    const left = reply.headers?.["x-ms-ratelimit-remaining-subscription-reads"];
    if (left !== undefined) entry.remainingReads = Number(left);
    if (faults.slowMs > 0 && front !== "aad") await new Promise((r) => setTimeout(r, faults.slowMs));
    if (drawn?.kind === "hang") {
      // Never answered: the socket stays open until the client gives up (or the emulator closes).
      entry.status = 0;
      entry.fault = "hang";
      requests.push(entry);
      return;
    }
    if (drawn?.kind === "reset") {
      entry.status = 0;
      entry.fault = "reset";
      requests.push(entry);
      req.socket.destroy();
      return;
    }
    const bytes = front === "arm" || front === "logs" ? servedAs(bodyBytes(reply)) : bodyBytes(reply);
    if (drawn?.kind === "truncate" && bytes.length > 1) {
      entry.fault = "truncate";
      requests.push(entry);
      res.writeHead(reply.status, { ...(reply.headers ?? {}), "content-length": String(bytes.length) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
      return;
    }
    if (drawn?.kind === "stall" && bytes.length > 1) {
      // Headers and half the body, then nothing: the socket stays open (closed with the emulator).
      entry.fault = "stall";
      requests.push(entry);
      res.writeHead(reply.status, { ...(reply.headers ?? {}), "content-length": String(bytes.length) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      return;
    }
    requests.push(entry);
    sendReply(res, reply, bytes);
  };

  const fault5xx = (drawn: ReturnType<FaultSampler["draw"]>): Reply =>
    drawn.pick < 0.5
      ? armError(
          500,
          "InternalServerError",
          "Encountered internal server error. Diagnostic information: timestamp '', correlation id ''.",
        )
      : armError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.", {
          "retry-after": "1",
        });

  let base = "";
  const env: EmulatorEnv = {
    armEndpoint: "",
    tenantId: snap.tenantId,
    clientId,
    loginServers: new Map(),
    activityPageSize: options.activityPageSize ?? 100,
    pageSize: options.pageSize ?? 100,
    logsRowLimit: options.logsRowLimit,
    now: () => Date.now(),
  };

  const main = mkServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(`${base}${req.url ?? "/"}`);
      const method = (req.method ?? "GET").toUpperCase();
      const path = normalisePath(url.pathname);
      // --- Entra ID ---
      let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/i.exec(path);
      if (m && method === "GET")
        return finish(req, res, "aad", openIdConfiguration(base, m[1] as string), undefined, undefined);
      m = /^\/([^/]+)\/discovery\/instance$/i.exec(path);
      if (m && method === "GET")
        return finish(req, res, "aad", instanceDiscovery(base, snap.tenantId), undefined, undefined);
      m = /^\/([^/]+)\/discovery\/v2\.0\/keys$/i.exec(path);
      if (m && method === "GET")
        return finish(
          req,
          res,
          "aad",
          { status: 200, body: { keys: [] }, headers: { "content-type": "application/json" } },
          undefined,
          undefined,
        );
      m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/i.exec(path);
      if (m && method === "POST") {
        const form = new URLSearchParams(body.toString("utf8"));
        return finish(req, res, "aad", tokenRequest(tokens, m[1] as string, form), undefined, undefined);
      }
      // --- ARM and Log Analytics ---
      const front = /^\/v1\/workspaces\//i.test(path) ? "logs" : "arm";
      const drawn = sampler.draw(path);
      if (drawn.kind === "5xx") return finish(req, res, front, fault5xx(drawn), undefined, "5xx");
      const auth = tokens.check(req.headers.authorization, Date.now(), revokedAt);
      if (auth.state !== "ok") {
        const wa = `Bearer authorization_uri="${base}/${snap.tenantId}", error="invalid_token", error_description="${
          auth.state === "missing"
            ? "The authentication failed because of missing 'Authorization' header."
            : auth.state === "expired"
              ? "The access token has expired."
              : "The access token is invalid."
        }"`;
        const reply =
          auth.state === "missing"
            ? armError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", {
                "www-authenticate": wa,
              })
            : auth.state === "expired"
              ? armError(
                  401,
                  "ExpiredAuthenticationToken",
                  `The access token expiry UTC time '${new Date(auth.token?.expiresAt ?? 0).toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.`,
                  { "www-authenticate": wa },
                )
              : armError(401, "InvalidAuthenticationToken", "The access token is invalid.", { "www-authenticate": wa });
        return finish(req, res, front, reply, drawn, auth.state === "expired" ? "expired" : "unauthenticated");
      }
      const ctx: Ctx = { method, path, url, body, snap, env, token: auth.token };
      const sm = /^\/subscriptions\/([^/]+)(\/|$)/i.exec(path);
      const extra: Record<string, string> = {};
      if (sm) {
        const sub = sm[1] as string;
        if (faults.forbidden.has(lc(sub))) {
          const scope = path;
          return finish(
            req,
            res,
            front,
            armError(
              403,
              "AuthorizationFailed",
              `The client '${clientId}' with object id '${objectId}' does not have authorization to perform action '${actionFor(method, path)}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
            ),
            drawn,
            "forbidden",
          );
        }
        if (faults.gone.has(lc(sub))) return finish(req, res, front, subscriptionNotFound(sub), drawn, "gone");
        if (!snap.subscriptions.some((s) => lc(s.subscriptionId) === lc(sub)))
          return finish(req, res, front, subscriptionNotFound(sub), drawn, undefined);
        if (throttleCfg.enabled && method === "GET") {
          const t = throttle.take(sub);
          if (!t.ok) {
            return finish(
              req,
              res,
              front,
              armError(
                429,
                "SubscriptionRequestsThrottled",
                `Number of 'read' requests for subscription '${sub}' actor '${objectId}' exceeded. Please try again after '${t.retryAfter}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
                {
                  "retry-after": String(t.retryAfter),
                  ...(throttleCfg.reportRemaining === false
                    ? {}
                    : { "x-ms-ratelimit-remaining-subscription-reads": "0" }),
                },
              ),
              drawn,
              "throttled",
            );
          }
          if (throttleCfg.reportRemaining !== false)
            extra["x-ms-ratelimit-remaining-subscription-reads"] = String(t.remaining);
        }
      }
      let reply: Reply | undefined;
      for (const r of ROUTES) {
        if (r.method !== method) continue;
        const rm = r.re.exec(path);
        if (rm) {
          reply = r.handler(ctx, rm);
          break;
        }
      }
      reply ??= armError(
        404,
        "InvalidResourceType",
        `The resource type or route '${method} ${path}' is not served by the emulator (docs/emulator.md lists what is).`,
      );
      reply.headers = { ...(reply.headers ?? {}), ...extra, "x-ms-request-id": randomBytes(16).toString("hex") };
      return finish(req, res, front, reply, drawn, undefined);
    } catch (e) {
      const reply = armError(500, "InternalServerError", `Emulator error: ${(e as Error).message}`);
      return finish(req, res, "arm", reply, undefined, "emulator-error");
    }
  });
  const port = await listen(main, options.port ?? 0, host);
  base = `https://localhost:${port}`;
  env.armEndpoint = base;

  // One listener per registry.
  const registries: Record<string, string> = {};
  for (const reg of snap.registries) {
    const st: AcrState = {
      registry: reg,
      loginServer: "",
      aad: tokens,
      refreshTokens: new Map(),
      accessTokens: new Map(),
      tokenLifetime,
      pageSize: options.acrPageSize ?? 100,
      anonymousPull: options.anonymousPull ?? false,
    };
    const s = mkServer(async (req, res) => {
      const front = `acr:${reg.name}`;
      try {
        const body = await readBody(req);
        const url = new URL(`https://${st.loginServer}${req.url ?? "/"}`);
        const drawn = url.pathname.startsWith("/oauth2/") ? undefined : sampler.draw(url.pathname);
        if (drawn?.kind === "5xx") return finish(req, res, front, fault5xx(drawn), undefined, "5xx");
        return finish(
          req,
          res,
          front,
          acrHandle(st, (req.method ?? "GET").toUpperCase(), url, req.headers, body),
          drawn,
          undefined,
        );
      } catch (e) {
        return finish(
          req,
          res,
          front,
          armError(500, "InternalServerError", (e as Error).message),
          undefined,
          "emulator-error",
        );
      }
    });
    const p = await listen(s, 0, host);
    st.loginServer = `localhost:${p}`;
    env.loginServers.set(lc(reg.name), st.loginServer);
    registries[reg.name] = `https://${st.loginServer}`;
  }

  const info: EmulatorInfo = {
    armEndpoint: base,
    authorityHost: base,
    tenantId: snap.tenantId,
    clientId,
    clientSecret,
    caFile: tls.caFile,
  };
  let closed = false;
  return {
    info,
    caPem: tls.caPem,
    registries,
    logsEndpoint: `${base}/v1`,
    workspaceId: workspaceIdFor(snap),
    requests,
    tokens,
    snapshot: snap,
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
      for (const sock of sockets) sock.destroy();
      // The CA folder is the emulator's own unless the caller chose it (options.caDir).
      if (!options.caDir) rmSync(dirname(tls.caFile), { recursive: true, force: true });
    },
  };
}
