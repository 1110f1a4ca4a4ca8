/**
 * Small shared helpers of the emulator: JSON answers, ARM error bodies, a seeded PRNG,
 * request body reading and the request log.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface RequestLogEntry {
  method: string;
  /** Path without the query string, as the client sent it. */
  path: string;
  /** Full request target, query included. */
  url: string;
  status: number;
  /** Which front answered: "aad", "arm", "logs" or "acr:<registry>". */
  front: string;
  /** What happened besides a plain answer: "throttled", "forbidden", "5xx", "reset", "truncate", "expired"… */
  fault?: string;
  /** The `x-ms-ratelimit-remaining-subscription-reads` the answer carried, when throttling is on. */
  remainingReads?: number;
}

/** mulberry32: the same PRNG as scripts/generate-demo.ts, so a seed means the same thing. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** What a handler answers; the server core writes it (and applies faults to it). */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string | Json;
}

export function json(status: number, body: Json, headers: Record<string, string> = {}): Reply {
  return { status, body, headers: { "content-type": "application/json; charset=utf-8", ...headers } };
}

/** ARM error body: `{"error":{"code","message"}}` (the ARM RPC error contract). */
export function armError(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { error: { code, message } }, headers);
}

export function bodyBytes(r: Reply): Buffer {
  if (r.body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(r.body)) return r.body;
  if (typeof r.body === "string") return Buffer.from(r.body, "utf8");
  return Buffer.from(JSON.stringify(r.body), "utf8");
}

export function sendReply(res: ServerResponse, r: Reply, bytes = bodyBytes(r)): void {
  res.writeHead(r.status, { ...(r.headers ?? {}), "content-length": String(bytes.length) });
  res.end(bytes);
}

/** Collapse duplicate slashes (`//subscriptions/…` from SDK `{scope}` templates) and drop a trailing one. */
export function normalisePath(p: string): string {
  const s = p.replace(/\/{2,}/g, "/");
  return s.length > 1 && s.endsWith("/") ? s.slice(0, -1) : s;
}

export function lc(s: string | undefined | null): string {
  return (s ?? "").toLowerCase();
}

/** Deterministic GUID-shaped id from a string (for records the snapshot gives no id for). */
export function guidFrom(hashHex: string): string {
  const h = hashHex.padEnd(32, "0");
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
