/**
 * Throttling and injected faults.
 *
 * Throttling follows ARM's per-subscription token bucket for reads
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
 * every answered GET under /subscriptions/{id} carries `x-ms-ratelimit-remaining-subscription-reads`;
 * an empty bucket answers 429 with `Retry-After` (seconds) and the ARM error code
 * `SubscriptionRequestsThrottled`.
 *
 * Faults are drawn from one seeded PRNG (mulberry32) in a fixed order per request, so that a
 * seed and the same sequence of requests give the same faults.
 */
import { mulberry32 } from "./util.ts";

export interface FaultConfig {
  /** Subscriptions (lower-cased) answered 403 AuthorizationFailed. */
  forbidden: Set<string>;
  /** Subscriptions (lower-cased) still listed by GET /subscriptions but answered 404 SubscriptionNotFound. */
  gone: Set<string>;
  rate5xx: number;
  rateReset: number;
  rateTruncate: number;
  /** Rate of requests never answered (the socket stays open until the client gives up). */
  rateHang: number;
  /** Rate of answers that stop half-way through the body and stay open (no close, no end). */
  rateStall: number;
  /**
   * Lower-cased path substrings: when any is set, the drawn faults (5xx, reset, truncate, hang)
   * apply only to requests whose path contains one of them. The draws still happen for every
   * request, so the sequence of draws does not depend on the filter.
   */
  only: string[];
  slowMs: number;
  /** Token lifetime in seconds when `token-expiry` is set (undefined: the default lifetime). */
  tokenExpiry: number | undefined;
  /**
   * Seconds after the start at which every token issued so far is refused (401
   * ExpiredAuthenticationToken) although its `expires_in` announced more: a revocation (a
   * continuous access evaluation event, a clock skew) the client cannot see coming. Tokens issued
   * after that moment are accepted (undefined: tokens are honoured until they expire).
   */
  tokenRevoke: number | undefined;
}

export function emptyFaults(): FaultConfig {
  return {
    forbidden: new Set(),
    gone: new Set(),
    rate5xx: 0,
    rateReset: 0,
    rateTruncate: 0,
    rateHang: 0,
    rateStall: 0,
    only: [],
    slowMs: 0,
    tokenExpiry: undefined,
    tokenRevoke: undefined,
  };
}

/** Parse one `--fault kind=value`. Throws with a one-line message on a bad value. */
export function addFault(cfg: FaultConfig, spec: string): void {
  const i = spec.indexOf("=");
  if (i < 0) throw new Error(`--fault ${spec}: expected kind=value`);
  const kind = spec.slice(0, i).trim().toLowerCase();
  const value = spec.slice(i + 1).trim();
  const rate = () => {
    const n = Number(value);
    if (!(n >= 0 && n <= 1)) throw new Error(`--fault ${kind}=${value}: the rate must be a number between 0 and 1`);
    return n;
  };
  const positive = () => {
    const n = Number(value);
    if (!(n >= 0) || !Number.isFinite(n)) throw new Error(`--fault ${kind}=${value}: expected a non-negative number`);
    return n;
  };
  switch (kind) {
    case "forbidden":
      if (!value) throw new Error("--fault forbidden=<subscriptionId>: the subscription id is missing");
      cfg.forbidden.add(value.toLowerCase());
      break;
    case "gone":
      if (!value) throw new Error("--fault gone=<subscriptionId>: the subscription id is missing");
      cfg.gone.add(value.toLowerCase());
      break;
    case "hang":
      cfg.rateHang = rate();
      break;
    case "stall":
      cfg.rateStall = rate();
      break;
    case "only":
      if (!value) throw new Error("--fault only=<path part>: the path part is missing");
      cfg.only.push(value.toLowerCase());
      break;
    case "token-revoke":
      cfg.tokenRevoke = positive();
      break;
    case "5xx":
      cfg.rate5xx = rate();
      break;
    case "reset":
      cfg.rateReset = rate();
      break;
    case "truncate":
      cfg.rateTruncate = rate();
      break;
    case "slow":
      cfg.slowMs = positive();
      break;
    case "token-expiry":
      cfg.tokenExpiry = positive();
      break;
    default:
      throw new Error(
        `--fault ${kind}: unknown fault (forbidden, gone, 5xx, reset, truncate, hang, stall, only, slow, token-expiry, token-revoke)`,
      );
  }
}

export type Drawn = "none" | "5xx" | "reset" | "truncate" | "hang" | "stall";

export class FaultSampler {
  readonly cfg: FaultConfig;
  private readonly rnd: () => number;
  constructor(cfg: FaultConfig, seed: number) {
    this.cfg = cfg;
    this.rnd = mulberry32(seed);
  }
  /**
   * One draw per configured rate, always in the same order (5xx, reset, truncate, hang, stall); with
   * `only`, a fault drawn for a path that matches none of its parts is dropped.
   */
  draw(path = ""): { kind: Drawn; pick: number } {
    const c = this.cfg;
    let kind: Drawn = "none";
    const pick = this.rnd();
    if (c.rate5xx > 0 && this.rnd() < c.rate5xx && kind === "none") kind = "5xx";
    if (c.rateReset > 0 && this.rnd() < c.rateReset && kind === "none") kind = "reset";
    if (c.rateTruncate > 0 && this.rnd() < c.rateTruncate && kind === "none") kind = "truncate";
    if (c.rateHang > 0 && this.rnd() < c.rateHang && kind === "none") kind = "hang";
    if (c.rateStall > 0 && this.rnd() < c.rateStall && kind === "none") kind = "stall";
    if (kind !== "none" && c.only.length > 0) {
      const p = path.toLowerCase();
      if (!c.only.some((o) => p.includes(o))) kind = "none";
    }
    return { kind, pick };
  }
}

export interface ThrottleConfig {
  enabled: boolean;
  /** Bucket size (reads). */
  capacity: number;
  /** Reads added back per second. */
  refillPerSecond: number;
  /**
   * Whether answers say how many reads are left (`x-ms-ratelimit-remaining-subscription-reads`).
   * Off, the bucket acts like a resource provider's own throttling, which answers 429 with
   * Retry-After but is not what ARM's remaining-reads header counts, so a client cannot pace
   * itself ahead of it and must retry.
   */
  reportRemaining?: boolean;
}

export class Throttle {
  readonly cfg: ThrottleConfig;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(cfg: ThrottleConfig) {
    this.cfg = cfg;
  }
  /** Take one read for the subscription: remaining reads, or the seconds to wait. */
  take(sub: string, now = Date.now()): { ok: true; remaining: number } | { ok: false; retryAfter: number } {
    const k = sub.toLowerCase();
    const b = this.buckets.get(k) ?? { tokens: this.cfg.capacity, at: now };
    b.tokens = Math.min(this.cfg.capacity, b.tokens + ((now - b.at) / 1000) * this.cfg.refillPerSecond);
    b.at = now;
    this.buckets.set(k, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens) };
    }
    const wait = this.cfg.refillPerSecond > 0 ? (1 - b.tokens) / this.cfg.refillPerSecond : 3600;
    return { ok: false, retryAfter: Math.max(1, Math.ceil(wait)) };
  }
}
