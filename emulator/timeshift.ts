/**
 * Time shift: the demo window is fixed (2026-10-22 … 2026-11-21) while a scanner asks for
 * "the last 7 days". By default every timestamp served moves by a whole number of days so that
 * the snapshot's window end falls within the last day before the emulator started.
 * Whole days keep weekdays, hours and every interval between records as they are.
 */
import { isObject, type Json } from "./util.ts";

const DAY_MS = 86_400_000;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** Days to add so that `windowTo + days` is in (now - 1 day, now]. */
export function shiftDaysFor(windowTo: string, now: number): number {
  const to = Date.parse(windowTo);
  if (Number.isNaN(to)) return 0;
  return Math.floor((now - to) / DAY_MS);
}

export class TimeShift {
  readonly days: number;
  readonly ms: number;
  constructor(days: number) {
    this.days = days;
    this.ms = days * DAY_MS;
  }

  /** Shift an ISO-8601 string, keeping its precision and zone suffix; anything else unchanged. */
  iso(s: string): string {
    if (this.days === 0) return s;
    const m = ISO.exec(s);
    if (!m) return s;
    const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    const d = new Date(base + this.ms);
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(
      d.getUTCMinutes(),
    )}:${p(d.getUTCSeconds())}${m[7] ?? ""}${m[8] ?? ""}`;
  }

  /** Epoch seconds as a decimal string (token claims iat/nbf/exp). */
  epochSeconds(s: string): string {
    if (this.days === 0 || !/^\d+$/.test(s)) return s;
    return String(Number(s) + this.days * 86_400);
  }

  /** .NET ticks (100 ns since 0001-01-01) as a decimal string, as in Activity Log event ids. */
  ticks(s: string): string {
    if (this.days === 0 || !/^\d+$/.test(s)) return s;
    return (BigInt(s) + BigInt(this.days) * 864_000_000_000n).toString();
  }

  /** Deep copy with every ISO timestamp string shifted. */
  deep<T extends Json>(v: T): T {
    if (this.days === 0) return v;
    return walk(v, this) as T;
  }
}

function walk(v: Json, t: TimeShift): Json {
  if (typeof v === "string") return t.iso(v);
  if (Array.isArray(v)) return v.map((x) => walk(x, t));
  if (isObject(v)) {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, t);
    return out;
  }
  return v;
}
