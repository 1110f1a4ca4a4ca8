/**
 * Bounded concurrency for live reads, overall and per subscription, and slowing down before ARM
 * throttles: ARM answers every read with how many the caller has left in the current window
 * (`x-ms-ratelimit-remaining-subscription-reads`, `…-tenant-reads`); as that falls under a floor,
 * each request of the subscription holds its slot a little longer, so the scan spreads its reads
 * instead of running into 429s. A 429 itself is retried by the SDK's own policy after Retry-After.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}
  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener("abort", stop);
        this.active++;
        resolve();
      };
      const stop = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason ?? new Error("aborted"));
      };
      signal?.addEventListener("abort", stop, { once: true });
      this.waiting.push(go);
    });
  }
  release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

/**
 * Reads left under which requests slow down, and the longest pause. ARM refills a
 * subscription's read bucket at 25 per second (250 at most); under one second's worth left,
 * each request holds its slot up to a second longer, linearly as the bucket empties, so a
 * subscription's four slots ask for at most about four reads a second once it is empty, and a
 * full bucket is never slowed at all. Only while the bucket is draining: a reading no lower
 * than the one before means the refill keeps up with the scan, and nothing is held.
 */
const SLOW_BELOW = 25;
const MAX_PAUSE_MS = 1_000;

const SUBSCRIPTION = /\/subscriptions\/([0-9a-f-]{36})(?:\/|$|\?)/i;
const REMAINING = ["x-ms-ratelimit-remaining-subscription-reads", "x-ms-ratelimit-remaining-tenant-reads"];

export class Limiter {
  private readonly all: Semaphore;
  private readonly perScope = new Map<string, Semaphore>();
  /** Reads left per subscription (or "tenant") as ARM last reported them. */
  readonly remaining = new Map<string, number>();
  /** Whether the last reading of a key was lower than the one before it. */
  private readonly draining = new Map<string, boolean>();
  /** Requests answered 429, and pauses taken because the remaining reads ran low. */
  throttled = 0;
  slowed = 0;

  constructor(
    readonly overall: number,
    private readonly perSubscription: number,
  ) {
    this.all = new Semaphore(overall);
  }

  private scope(key: string): Semaphore {
    let s = this.perScope.get(key);
    if (!s) {
      s = new Semaphore(this.perSubscription);
      this.perScope.set(key, s);
    }
    return s;
  }

  /** Runs `send` holding a slot overall and one for the request's subscription. */
  async run<T>(url: string, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const key = SUBSCRIPTION.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? "tenant";
    const sub = this.scope(key);
    await sub.acquire(signal);
    try {
      await this.all.acquire(signal);
      try {
        return await send();
      } finally {
        this.all.release();
      }
    } finally {
      const pause = this.pauseFor(key);
      if (pause > 0) {
        this.slowed++;
        await new Promise((r) => setTimeout(r, pause));
      }
      sub.release();
    }
  }

  /** Records what a response says about the reads left. */
  observe(url: string, status: number, header: (name: string) => string | undefined): void {
    if (status === 429) this.throttled++;
    const key = SUBSCRIPTION.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? "tenant";
    for (const h of REMAINING) {
      const v = header(h);
      if (v !== undefined && /^\d+$/.test(v)) {
        const before = this.remaining.get(key);
        this.draining.set(key, before === undefined || Number(v) < before);
        this.remaining.set(key, Number(v));
        break;
      }
    }
  }

  private pauseFor(key: string): number {
    const left = this.remaining.get(key);
    if (left === undefined || left >= SLOW_BELOW || (left > 0 && this.draining.get(key) === false)) return 0;
    return Math.min(MAX_PAUSE_MS, Math.round(((SLOW_BELOW - left) / SLOW_BELOW) * MAX_PAUSE_MS));
  }
}

/** The limiter as a pipeline policy (position perRetry: each attempt takes a slot). */
export function limiterPolicy(limiter: Limiter): PipelinePolicy {
  return {
    name: "azureExecAuditLimiter",
    sendRequest: (request, next) =>
      limiter.run(
        request.url,
        async () => {
          const response = await next(request);
          limiter.observe(request.url, response.status, (h) => response.headers.get(h));
          return response;
        },
        request.abortSignal as AbortSignal | undefined,
      ),
  };
}
