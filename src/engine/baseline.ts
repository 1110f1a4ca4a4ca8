/**
 * A first-seen baseline: key hash → earliest time, in flat typed arrays. A baseline holds a key
 * per distinct (principal, address range), (principal, resource), … over every Activity Log
 * event, by the hundred thousand; as a Map of objects holding ISO strings it cost about 90 bytes
 * a key in every worker thread and again in the main thread after the merge (docs/performance.md).
 * Here a key costs 24 bytes of open addressing (about 40 at the table's average load), and a
 * worker's share crosses the thread boundary as transferred buffers, not as a cloned array.
 *
 * Times are kept as two numbers that order exactly as the strings do. Times reaching a baseline
 * are UTC ISO-8601 as Azure writes them (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, util.ts utcTime):
 * `hi` is the 14 digits of date and clock as one integer, `lo` the rest (`.fraction` and `Z`)
 * as base-13 digits, so comparing (hi, lo) is comparing the strings, and decoding gives back
 * the string exactly. A time of any other form (none should come) is kept as its string.
 */
import type { BaselinePart } from "../model/records.js";
import type { Store } from "./state.js";

export type { BaselinePart };

const EMPTY = -1;
/** Longest tail after the seconds: `.` + 9 digits + `Z`. */
const TAIL_MAX = 11;
const TAIL_BASE = 13;
/** hi of a time kept as a string (not encodable). */
const ODD = -2;

/** A time's code, written by encodeTime (one scratch object per caller, so nothing is allocated). */
export interface TimeCode {
  hi: number;
  lo: number;
}

const digit = (c: number) => c >= 48 && c <= 57;

/**
 * Encodes a UTC ISO-8601 time into `out`; false (out untouched) when the string is not of that
 * form. Symbols of the tail: end 0, `.` 1, digits 2–11, `Z` 12, so a shorter tail orders before
 * a longer one with the same start, as strings do.
 */
export function encodeTime(s: string, out: TimeCode): boolean {
  const n = s.length;
  if (n < 20 || n > 19 + TAIL_MAX) return false;
  let hi = 0;
  for (let i = 0; i < 19; i++) {
    const c = s.charCodeAt(i);
    if (i === 4 || i === 7) {
      if (c !== 45) return false;
    } else if (i === 10) {
      if (c !== 84) return false;
    } else if (i === 13 || i === 16) {
      if (c !== 58) return false;
    } else if (digit(c)) hi = hi * 10 + (c - 48);
    else return false;
  }
  let lo = 0;
  for (let i = 19; i < 19 + TAIL_MAX; i++) {
    let sym = 0;
    if (i < n) {
      const c = s.charCodeAt(i);
      if (c === 46 && i === 19) sym = 1;
      else if (digit(c) && i > 19) sym = c - 46;
      else if (c === 90 && i === n - 1) sym = 12;
      else return false;
    }
    lo = lo * TAIL_BASE + sym;
  }
  out.hi = hi;
  out.lo = lo;
  return true;
}

const TAIL_CHARS = ["", ".", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "Z"];

/** The string a code was made from. */
export function decodeTime(hi: number, lo: number): string {
  const d = String(hi).padStart(14, "0");
  let tail = "";
  let x = lo;
  for (let i = 0; i < TAIL_MAX; i++) {
    const sym = x % TAIL_BASE;
    x = (x - sym) / TAIL_BASE;
    tail = TAIL_CHARS[sym] + tail;
  }
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}${tail}`;
}

/** Outcomes of Baseline.offer. */
export const FULL = -1;
export const KEPT = 0;
export const EARLIER = 1;
export const ADDED = 2;

export class Baseline implements Store<string, number> {
  private keys: Float64Array;
  private his: Float64Array;
  private los: Float64Array;
  private mask: number;
  size = 0;
  private odd?: Map<number, string>;
  /** Keys added or made earlier since tracking began (the state store writes back only these). */
  private changed?: Uint8Array;
  private readonly scratch: TimeCode = { hi: 0, lo: 0 };
  /** After offer: the code of the key's earliest time now (hi NaN when it is kept as a string). */
  readonly held: TimeCode = { hi: 0, lo: 0 };

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.his = new Float64Array(cap);
    this.los = new Float64Array(cap);
    this.mask = cap - 1;
  }

  /** From here on, remember which keys change (what was loaded before is not a change). */
  trackChanges(): void {
    this.changed = new Uint8Array(this.keys.length);
  }

  private slotOf(key: number): number {
    // The key's two halves mixed: low 21 bits and the 32 above them (state.ts foldHash).
    const lo21 = key % 0x200000;
    const high = Math.floor(key / 0x200000) | 0;
    let i = (Math.imul(lo21 ^ high, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const k = this.keys[i] as number;
      if (k === key || k === EMPTY) return i;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const { keys, his, los, changed } = this;
    const cap = keys.length * 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.his = new Float64Array(cap);
    this.los = new Float64Array(cap);
    if (changed) this.changed = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j] as number;
      if (k === EMPTY) continue;
      const i = this.slotOf(k);
      this.keys[i] = k;
      this.his[i] = his[j] as number;
      this.los[i] = los[j] as number;
      if (changed && this.changed) this.changed[i] = changed[j] as number;
    }
  }

  private timeAt(i: number): string {
    const hi = this.his[i] as number;
    return hi === ODD ? (this.odd?.get(this.keys[i] as number) as string) : decodeTime(hi, this.los[i] as number);
  }

  get(key: number): string | undefined {
    const i = this.slotOf(key);
    return this.keys[i] === EMPTY ? undefined : this.timeAt(i);
  }

  /** The code of a key's time into `out`; false when the key is unknown or its time not encodable. */
  codeOf(key: number, out: TimeCode): boolean {
    const i = this.slotOf(key);
    if (this.keys[i] === EMPTY || this.his[i] === ODD) return false;
    out.hi = this.his[i] as number;
    out.lo = this.los[i] as number;
    return true;
  }

  set(key: number, time: string): void {
    let i = this.slotOf(key);
    if (this.keys[i] === EMPTY) {
      this.insertAt(i, key);
      i = this.slotOf(key);
    }
    const c = this.scratch;
    this.put(i, key, time, encodeTime(time, c) ? c.hi : Number.NaN, c.lo);
  }

  private insertAt(i: number, key: number): void {
    this.keys[i] = key;
    this.size++;
    // Load at most 3/4: past it, probes lengthen.
    if (this.size * 4 > this.keys.length * 3) {
      this.grow();
    }
  }

  /**
   * Keeps the earlier of a key's time and `time` (its code `hi`, `lo`, or hi NaN when it has
   * none). A new key is refused when the baseline holds `limit` keys.
   */
  offer(key: number, time: string | undefined, hi: number, lo: number, limit: number): number {
    let i = this.slotOf(key);
    if (this.keys[i] === EMPTY) {
      if (this.size >= limit) return FULL;
      this.insertAt(i, key);
      i = this.slotOf(key);
      this.put(i, key, time, hi, lo);
      return ADDED;
    }
    const h = this.his[i] as number;
    const earlier =
      h === ODD || Number.isNaN(hi)
        ? (time ?? decodeTime(hi, lo)) < this.timeAt(i)
        : hi < h || (hi === h && lo < (this.los[i] as number));
    if (!earlier) {
      this.held.hi = h === ODD ? Number.NaN : h;
      this.held.lo = this.los[i] as number;
      return KEPT;
    }
    this.put(i, key, time, hi, lo);
    return EARLIER;
  }

  private put(i: number, key: number, time: string | undefined, hi: number, lo: number): void {
    this.held.hi = hi;
    this.held.lo = lo;
    if (Number.isNaN(hi)) {
      this.his[i] = ODD;
      this.los[i] = 0;
      if (!this.odd) this.odd = new Map();
      this.odd.set(key, time as string);
    } else {
      this.his[i] = hi;
      this.los[i] = lo;
      this.odd?.delete(key);
    }
    if (this.changed) this.changed[i] = 1;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  /** [key, time] of every key, or only of those changed since trackChanges(). */
  *entries(changedOnly = false): IterableIterator<[number, string]> {
    const changed = this.changed;
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i] as number;
      if (k === EMPTY || (changedOnly && changed && changed[i] !== 1)) continue;
      yield [k, this.timeAt(i)];
    }
  }

  /** The keys and codes as packed buffers (their own, so they can be transferred). */
  part(): BaselinePart {
    const keys = new Float64Array(this.size);
    const hi = new Float64Array(this.size);
    const lo = new Float64Array(this.size);
    const odd: [number, string][] = [];
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i] as number;
      if (k === EMPTY) continue;
      keys[n] = k;
      hi[n] = this.his[i] as number;
      lo[n] = this.los[i] as number;
      if (this.his[i] === ODD) odd.push([k, this.odd?.get(k) as string]);
      n++;
    }
    return { keys, hi, lo, odd };
  }
}

/** [key, time] of every key of a part (tests, the state store). */
export function* partEntries(p: BaselinePart): IterableIterator<[number, string]> {
  const odd = new Map(p.odd);
  for (let i = 0; i < p.keys.length; i++) {
    const k = p.keys[i] as number;
    yield [k, p.hi[i] === ODD ? (odd.get(k) as string) : decodeTime(p.hi[i] as number, p.lo[i] as number)];
  }
}

/** Marks a part's odd entries for Baseline.offer: hi NaN means "compare the string". */
export function partHi(p: BaselinePart, i: number): number {
  const h = p.hi[i] as number;
  return h === ODD ? Number.NaN : h;
}
