/**
 * What every live collector shares: the credential (@azure/identity), the cloud's endpoints and
 * token scopes, the client options every Azure SDK client is built with (endpoint, retries, the
 * concurrency and rate-limit policy), and the error explanations. One session per scan.
 *
 * Clouds: public, usgov and china by name; any other (Azure Stack Hub, a private or test cloud)
 * through --arm-endpoint plus the identity library's own authority-host setting
 * (AZURE_AUTHORITY_HOST). A custom authority is not in MSAL's list of known hosts, so instance
 * discovery (a call to login.microsoftonline.com) is turned off for it, as Azure Stack needs.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import {
  AzureAuthorityHosts,
  AzureCliCredential,
  DefaultAzureCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from "@azure/identity";
import { UsageError } from "../../util/errors.js";
import { Limiter, limiterPolicy } from "./limiter.js";
import { AUTH_MODES, type AuthMode, type CloudName } from "./options.js";
import {
  netSettings,
  RenewableCredential,
  refusedTokenPolicy,
  retryAfterCapPolicy,
  timeoutPolicy,
} from "./resilience.js";
import { cutBodyRetryPolicy } from "./retry.js";

export { AUTH_MODES, type AuthMode, CLOUDS, type CloudName } from "./options.js";

export interface CloudEndpoints {
  name: CloudName | "custom";
  /** Azure Resource Manager, without a trailing slash. */
  arm: string;
  /** The token scope for ARM (its audience + /.default). */
  armScope: string;
  authorityHost: string;
  /** Log Analytics query API (…/v1) and its scope. */
  logs: string;
  logsScope: string;
  /** The ACR data plane's token audience for AAD tokens. */
  acrAudience: string;
}

/** Endpoints per named cloud (learn.microsoft.com: Azure Government / Azure China developer guides). */
const NAMED: Record<CloudName, Omit<CloudEndpoints, "name">> = {
  public: {
    arm: "https://management.azure.com",
    armScope: "https://management.azure.com/.default",
    authorityHost: AzureAuthorityHosts.AzurePublicCloud,
    logs: "https://api.loganalytics.io/v1",
    logsScope: "https://api.loganalytics.io/.default",
    acrAudience: "https://management.azure.com",
  },
  usgov: {
    arm: "https://management.usgovcloudapi.net",
    armScope: "https://management.usgovcloudapi.net/.default",
    authorityHost: AzureAuthorityHosts.AzureGovernment,
    logs: "https://api.loganalytics.us/v1",
    logsScope: "https://api.loganalytics.us/.default",
    acrAudience: "https://management.usgovcloudapi.net",
  },
  china: {
    arm: "https://management.chinacloudapi.cn",
    armScope: "https://management.chinacloudapi.cn/.default",
    authorityHost: AzureAuthorityHosts.AzureChina,
    logs: "https://api.loganalytics.azure.cn/v1",
    logsScope: "https://api.loganalytics.azure.cn/.default",
    acrAudience: "https://management.chinacloudapi.cn",
  },
};

export interface SessionOptions {
  auth?: AuthMode;
  cloud?: CloudName;
  /** A custom cloud's ARM endpoint (Azure Stack Hub, a private cloud, the test emulator). */
  armEndpoint?: string;
  /** A custom cloud's ARM token audience; default: the public cloud's. */
  armAudience?: string;
  /** A custom cloud's Log Analytics query endpoint (…/v1). */
  logsEndpoint?: string;
  /** Requests in flight at once, overall (default 8) and per subscription (at most 4). */
  maxConcurrency?: number;
  /** The environment (AZURE_AUTHORITY_HOST, AZURE_CLIENT_ID, …); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface AzureSession {
  readonly cloud: CloudEndpoints;
  readonly credential: TokenCredential;
  /** Which credential it is, for messages ("DefaultAzureCredential", "AzureCliCredential", …). */
  readonly credentialName: string;
  readonly limiter: Limiter;
  /**
   * Options for an ARM SDK client (@azure/arm-*): endpoint, scopes, retries, the limiter policy,
   * and `capture` (a BodyCapture's policy) when the caller reads raw bodies.
   */
  armClientOptions(capture?: PipelinePolicy): ArmClientOptions;
  /** Retries and per-attempt policies for a Log Analytics query client (a longer timeout). */
  queryClientOptions(): Pick<ArmClientOptions, "retryOptions" | "additionalPolicies">;
  /** Fails early, in one sentence, when no token can be had (exit 3). */
  verify(abortSignal?: AbortSignal): Promise<void>;
}

export interface ArmClientOptions {
  endpoint: string;
  credentialScopes: string[];
  credentials: { scopes: string[] };
  retryOptions: { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number };
  additionalPolicies: { policy: PipelinePolicy; position: "perCall" | "perRetry" }[];
  userAgentOptions: { userAgentPrefix: string };
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, "");
}

function httpsUrl(flag: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an https:// URL, got '${value}'`);
  }
  if (u.protocol !== "https:") throw new UsageError(`${flag} must be an https:// URL, got '${value}'`);
  return trimSlash(u.href);
}

export function cloudEndpoints(o: SessionOptions): CloudEndpoints {
  const env = o.env ?? process.env;
  if (o.cloud && o.armEndpoint) throw new UsageError("use either --cloud or --arm-endpoint, not both");
  const authorityEnv = env.AZURE_AUTHORITY_HOST
    ? httpsUrl("AZURE_AUTHORITY_HOST", env.AZURE_AUTHORITY_HOST)
    : undefined;
  if (!o.armEndpoint) {
    const base = NAMED[o.cloud ?? "public"];
    return { name: o.cloud ?? "public", ...base, authorityHost: authorityEnv ?? base.authorityHost };
  }
  const arm = httpsUrl("--arm-endpoint", o.armEndpoint);
  if (!authorityEnv)
    throw new UsageError(
      "--arm-endpoint needs the cloud's sign-in host in AZURE_AUTHORITY_HOST (for example https://login.microsoftonline.com)",
    );
  const audience = o.armAudience ? trimSlash(o.armAudience) : NAMED.public.acrAudience;
  return {
    name: "custom",
    arm,
    armScope: `${audience}/.default`,
    authorityHost: authorityEnv,
    logs: o.logsEndpoint ? httpsUrl("--logs-endpoint", o.logsEndpoint) : NAMED.public.logs,
    logsScope: NAMED.public.logsScope,
    acrAudience: audience,
  };
}

const KNOWN_AUTHORITIES = new Set<string>(Object.values(AzureAuthorityHosts).map((h) => trimSlash(h)));

/** The identity options every credential of this cloud is built with. */
export function credentialOptions(cloud: CloudEndpoints): { authorityHost: string; disableInstanceDiscovery: boolean } {
  const authorityHost = cloud.authorityHost;
  // MSAL validates unknown authorities against login.microsoftonline.com; a custom cloud has none there.
  const disableInstanceDiscovery = !KNOWN_AUTHORITIES.has(trimSlash(authorityHost));
  return { authorityHost, disableInstanceDiscovery };
}

function makeCredential(mode: AuthMode, cloud: CloudEndpoints, env: NodeJS.ProcessEnv) {
  const common = credentialOptions(cloud);
  switch (mode) {
    case "cli":
      return { name: "AzureCliCredential", credential: new AzureCliCredential() };
    case "env":
      return { name: "EnvironmentCredential", credential: new EnvironmentCredential(common) };
    case "managed-identity":
      return {
        name: "ManagedIdentityCredential",
        credential: env.AZURE_CLIENT_ID
          ? new ManagedIdentityCredential({ clientId: env.AZURE_CLIENT_ID })
          : new ManagedIdentityCredential(),
      };
    case "workload-identity":
      return { name: "WorkloadIdentityCredential", credential: new WorkloadIdentityCredential(common) };
    default:
      return { name: "DefaultAzureCredential", credential: new DefaultAzureCredential(common) };
  }
}

/**
 * A credential supplied by a program that embeds the scanner rather than chosen by --auth: the
 * GitHub Action signs in with the runner's OIDC token (a client assertion it fetches anew each
 * time one is needed), which no command-line flag could describe. Used only when --auth is not
 * given, so a pinned credential still wins.
 */
export interface SuppliedCredential {
  name: string;
  credential: TokenCredential;
  /** How to fix a failed sign-in with it, for the one-sentence error. */
  fix: string;
}

let supplied: SuppliedCredential | undefined;

/** Sets (or, with undefined, clears) the credential every later session uses when --auth is not given. */
export function supplyCredential(c: SuppliedCredential | undefined): void {
  supplied = c;
}

/** How to fix a failed sign-in, per credential. */
const AUTH_FIX: Record<AuthMode, string> = {
  default:
    "sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run where a managed or workload identity is available; --auth pins one credential",
  cli: "run `az login` (and `az account set` for the tenant) as the user running the scan",
  env: "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH) for a service principal",
  "managed-identity": "run on an Azure host with a managed identity (set AZURE_CLIENT_ID for a user-assigned one)",
  "workload-identity":
    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (a federated workload identity)",
};

/**
 * The cause of an identity error in one line. The credentials wrap the token endpoint's answer
 * (EnvironmentCredential: "authentication failed. To troubleshoot, visit …", with the real
 * reason in `errorResponse.errorDescription`), so Entra ID's own sentence (AADSTS7000215:
 * Invalid client secret provided) is looked for first; else the first line of the message.
 */
function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const described = (e as { errorResponse?: { errorDescription?: unknown } } | undefined)?.errorResponse
    ?.errorDescription;
  const text = `${m}\n${typeof described === "string" ? described : ""}`;
  const aad = /AADSTS\d+:[^\r\n]*?(?:\.(?=\s|$)|$)/m.exec(text)?.[0];
  const line = aad ?? m.split(/\r?\n/).find((l) => l.trim() !== "") ?? m;
  return line.replace(/\s+/g, " ").trim().slice(0, 300);
}

export function createSession(o: SessionOptions = {}): AzureSession {
  const env = o.env ?? process.env;
  const cloud = cloudEndpoints(o);
  const mode = o.auth ?? "default";
  if (!(AUTH_MODES as readonly string[]).includes(mode))
    throw new UsageError(`unknown --auth '${mode}' (use ${AUTH_MODES.join(", ")})`);
  const max = o.maxConcurrency ?? 8;
  if (!Number.isInteger(max) || max < 1 || max > 64)
    throw new UsageError(`--max-concurrency must be a whole number from 1 to 64, got '${o.maxConcurrency}'`);
  const own = o.auth === undefined ? supplied : undefined;
  const { name, credential: chosen } = own ?? makeCredential(mode, cloud, env);
  const credential = new RenewableCredential(chosen);
  const fix = own?.fix ?? AUTH_FIX[mode];
  const limiter = new Limiter(max, Math.min(4, max));
  const policy = limiterPolicy(limiter);
  const net = netSettings(env);
  const cutBody = cutBodyRetryPolicy(Math.min(400, net.retryDelayMs));
  const timeout = timeoutPolicy(net.requestTimeoutMs);
  const refused = refusedTokenPolicy(credential);
  const retryAfterCap = retryAfterCapPolicy(net.maxRetryAfterMs);
  const retryOptions = { maxRetries: 6, retryDelayInMs: net.retryDelayMs, maxRetryDelayInMs: net.maxRetryDelayMs };
  return {
    cloud,
    credential,
    credentialName: name,
    limiter,
    armClientOptions: (capture) => ({
      endpoint: cloud.arm,
      credentialScopes: [cloud.armScope],
      credentials: { scopes: [cloud.armScope] },
      // The SDK's own policies retry 429 (after Retry-After), 5xx and resets with backoff and jitter.
      retryOptions,
      // Per attempt (core-client runs these after signing), outermost first: the Retry-After
      // cap, the retry of cut-off bodies, the limiter, the timeout (started once the limiter
      // gave a slot, so queueing is not timed; one more attempt, then a gap), and one renewal
      // of a token the service refused (resilience.ts).
      additionalPolicies: [
        ...(capture ? [{ policy: capture, position: "perCall" as const }] : []),
        { policy: retryAfterCap, position: "perRetry" },
        { policy: cutBody, position: "perRetry" },
        { policy, position: "perRetry" },
        { policy: timeout, position: "perRetry" },
        { policy: refused, position: "perRetry" },
      ],
      userAgentOptions: { userAgentPrefix: "azure-exec-audit" },
    }),
    queryClientOptions: () => ({
      retryOptions,
      additionalPolicies: [
        { policy: retryAfterCap, position: "perRetry" },
        { policy: cutBody, position: "perRetry" },
        { policy: timeoutPolicy(net.queryTimeoutMs), position: "perRetry" },
        { policy: refused, position: "perRetry" },
      ],
    }),
    async verify(abortSignal) {
      try {
        const t = await credential.getToken(cloud.armScope, { abortSignal });
        if (!t) throw new Error("no token was returned");
      } catch (e) {
        throw new UsageError(`could not sign in with ${name}: ${firstLine(e).replace(/\.+$/, "")}. To fix: ${fix}`);
      }
    },
  };
}
