/**
 * The token side: Microsoft Entra ID endpoints as MSAL (through @azure/identity) calls them on a
 * custom authority host, and the opaque bearer tokens they issue.
 *
 * - `GET /{tenant}/v2.0/.well-known/openid-configuration`: the OpenID provider metadata MSAL reads
 *   for a non-Microsoft authority (fields as login.microsoftonline.com serves them; the ones MSAL
 *   reads are listed in /work/shared/VERIFIED.md).
 * - `GET /common/discovery/instance`: the instance-discovery answer, served for completeness; MSAL
 *   asks login.microsoftonline.com for it, not the authority host (see docs/emulator.md).
 * - `POST /{tenant}/oauth2/v2.0/token`: client_credentials with client_secret, or with
 *   client_assertion (workload identity); errors in the AADSTS form
 *   `{error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri}`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { json, type Reply } from "./util.ts";

export interface IssuedToken {
  clientId: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
}

export interface AuthConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Lifetime announced and enforced, in seconds. */
  tokenLifetime: number;
  /** Accept client_assertion (workload identity federation) for the client id. */
  acceptAssertion: boolean;
}

export class TokenStore {
  readonly cfg: AuthConfig;
  readonly tokens = new Map<string, IssuedToken>();
  /** Count of tokens issued, per scope (for tests: "the client re-acquired"). */
  issued = 0;
  constructor(cfg: AuthConfig) {
    this.cfg = cfg;
  }

  issue(clientId: string, scope: string, now = Date.now()): { token: string; lifetime: number } {
    const token = `emu.${randomBytes(24).toString("base64url")}`;
    this.tokens.set(token, { clientId, scope, issuedAt: now, expiresAt: now + this.cfg.tokenLifetime * 1000 });
    this.issued++;
    return { token, lifetime: this.cfg.tokenLifetime };
  }

  /**
   * "ok", "missing", "invalid" or "expired" for an Authorization header value; with `revokedAt`
   * (epoch ms), from then on a token issued before it is "expired" whatever lifetime it was issued with.
   */
  check(
    header: string | undefined,
    now = Date.now(),
    revokedAt?: number,
  ): { state: "ok" | "missing" | "invalid" | "expired"; token?: IssuedToken } {
    if (!header) return { state: "missing" };
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return { state: "invalid" };
    const t = this.tokens.get(m[1] as string);
    if (!t) return { state: "invalid" };
    if (now >= t.expiresAt) return { state: "expired", token: t };
    if (revokedAt !== undefined && now >= revokedAt && t.issuedAt < revokedAt)
      return { state: "expired", token: { ...t, expiresAt: revokedAt } };
    return { state: "ok", token: t };
  }
}

function aadError(status: number, error: string, code: number, description: string): Reply {
  const trace = randomUUID();
  const corr = randomUUID();
  const ts = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts.replace("T", " ")}`,
    error_codes: [code],
    timestamp: ts.replace("T", " "),
    trace_id: trace,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

export function openIdConfiguration(authorityHost: string, tenant: string): Reply {
  const base = `${authorityHost}/${tenant}`;
  return json(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${authorityHost}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    tenant_region_scope: "EU",
    cloud_instance_name: new URL(authorityHost).host,
  });
}

export function instanceDiscovery(authorityHost: string, tenant: string): Reply {
  const host = new URL(authorityHost).host;
  return json(200, {
    tenant_discovery_endpoint: `${authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

export function tokenRequest(store: TokenStore, tenant: string, form: URLSearchParams): Reply {
  const cfg = store.cfg;
  if (tenant.toLowerCase() !== cfg.tenantId.toLowerCase()) {
    return aadError(
      400,
      "invalid_tenant",
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  }
  const grant = form.get("grant_type");
  if (grant !== "client_credentials") {
    return aadError(
      400,
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grant ?? ""}'.`,
    );
  }
  const clientId = form.get("client_id") ?? "";
  if (clientId.toLowerCase() !== cfg.clientId.toLowerCase()) {
    return aadError(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  if (secret !== null) {
    if (secret !== cfg.clientSecret) {
      return aadError(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
  } else if (assertion !== null) {
    const type = form.get("client_assertion_type");
    if (
      !cfg.acceptAssertion ||
      type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
      assertion.split(".").length !== 3
    ) {
      return aadError(401, "invalid_client", 700027, "Client assertion failed signature validation.");
    }
  } else {
    return aadError(
      401,
      "invalid_client",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  const scope = form.get("scope") ?? "";
  if (!/\/\.default$/.test(scope.split(" ").find((s) => s.endsWith("/.default")) ?? "")) {
    return aadError(
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  const { token, lifetime } = store.issue(clientId, scope);
  return json(200, { token_type: "Bearer", expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
}
