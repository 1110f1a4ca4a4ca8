/**
 * What the engine keeps across a stream, behind small interfaces: finding groups, first-seen
 * baselines, correlation buffers, deferred records and who-wrote-what. The in-memory
 * implementation is the default; the state store (SQLite) implements the same interfaces, so
 * persisting state never touches the matcher or the stages.
 */
import { Baseline } from "./baseline.js";

export interface Store<V, K extends string | number = string> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  readonly size: number;
  values(): IterableIterator<V>;
}

/** Finding groups: a store that can also let one go (the findings bound evicts, grouping.ts). */
export interface GroupStore<V> extends Store<V> {
  delete(key: string): void;
  keys(): IterableIterator<string>;
}

/** A buffer that holds at most `limit` items and counts what it refused. */
export interface BoundedBuffer<T> {
  readonly limit: number;
  /** False when the bound was hit and the item was not kept. */
  push(item: T): boolean;
  items(): T[];
  readonly dropped: number;
  clear(): void;
}

/**
 * Bounds on everything that grows with the input (docs/performance.md). Past a bound, the new
 * item is not kept, and a diagnostic names what was dropped: memory stays flat, and the report
 * says where it is not the whole picture.
 */
export interface EngineLimits {
  /** Matches one correlation may hold (a compact stub each). */
  correlationEvents: number;
  /** Records held for rules that need scan-wide context (role assignment writes, images). */
  deferredRecords: number;
  /** Distinct findings (rule × principal × resource, or rule × first-seen key). */
  findings: number;
  /** Keys one first-seen baseline may hold (principal × address range, say). */
  baselineKeys: number;
  /** Resources whose latest write attribution keeps. */
  writers: number;
}

export const DEFAULT_LIMITS: EngineLimits = {
  correlationEvents: 50_000,
  deferredRecords: 100_000,
  findings: 50_000,
  baselineKeys: 500_000,
  writers: 500_000,
};

export interface EngineState {
  /** Finding groups by group key. */
  groups<G>(): GroupStore<G>;
  /** First-seen baseline for one field tuple: hashed key (keyHash) → earliest time seen. */
  baseline(tuple: string): Baseline;
  /**
   * Buffered matches of one correlation's referenced rules. With `order`, a full buffer keeps
   * the `limit` items that come first in it, whatever order they arrive in.
   */
  correlation<T>(id: string, limit: number, order?: (a: T, b: T) => number): BoundedBuffer<T>;
  /** Records whose rules run when the input has been read. */
  deferred<T>(limit: number): BoundedBuffer<T>;
  /** Latest write per resource (attribution), by hashed lower-cased resource id (keyHash). */
  writers<W>(): Store<W, number>;
  /** Image imports into registries (attribution of images), by hashed event id (keyHash). */
  imports<I>(): Store<I, number>;
}

class MemoryStore<V, K extends string | number = string> implements Store<V, K> {
  private readonly map = new Map<K, V>();
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    this.map.set(key, value);
  }
  get size(): number {
    return this.map.size;
  }
  values(): IterableIterator<V> {
    return this.map.values();
  }
  keys(): IterableIterator<K> {
    return this.map.keys();
  }
  delete(key: K): void {
    this.map.delete(key);
  }
}

/** Orders `list` in place as a max-heap under `order` (its first item is the last in order). */
export function heapify<T>(list: T[], order: (a: T, b: T) => number): void {
  for (let i = (list.length >> 1) - 1; i >= 0; i--) siftDown(list, i, order);
}

/** Replaces the first item of a max-heap (the last in order) with `item`, keeping it a heap. */
export function replaceTop<T>(list: T[], item: T, order: (a: T, b: T) => number): void {
  list[0] = item;
  siftDown(list, 0, order);
}

/**
 * Offers `item` to a full `list` kept as a max-heap under `order` (made one on first use: `heaped`
 * false): the item takes the place of the last in order when it comes before it. Whether it was
 * kept; either way one item (it, or the one it replaced) is lost. Past a bound, what is kept is
 * then the first `limit` in order, the same whatever order the items came in (two worker
 * threads interleave).
 */
export function offerToFull<T>(list: T[], item: T, order: (a: T, b: T) => number, heaped: boolean): boolean {
  if (!heaped) heapify(list, order);
  if (list.length === 0 || order(item, list[0] as T) >= 0) return false;
  replaceTop(list, item, order);
  return true;
}

function siftDown<T>(a: T[], from: number, order: (a: T, b: T) => number): void {
  let i = from;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < a.length && order(a[l] as T, a[m] as T) > 0) m = l;
    if (r < a.length && order(a[r] as T, a[m] as T) > 0) m = r;
    if (m === i) return;
    const t = a[i] as T;
    a[i] = a[m] as T;
    a[m] = t;
    i = m;
  }
}

class MemoryBuffer<T> implements BoundedBuffer<T> {
  private list: T[] = [];
  private heaped = false;
  dropped = 0;
  constructor(
    readonly limit: number,
    private readonly order?: (a: T, b: T) => number,
  ) {}
  push(item: T): boolean {
    if (this.list.length >= this.limit) {
      this.dropped++;
      if (!this.order) return false;
      const kept = offerToFull(this.list, item, this.order, this.heaped);
      this.heaped = true;
      return kept;
    }
    this.list.push(item);
    return true;
  }
  items(): T[] {
    return this.list;
  }
  clear(): void {
    this.list = [];
    this.heaped = false;
  }
}

/** Everything in process memory, gone when the scan ends. */
export class MemoryState implements EngineState {
  private readonly stores = new Map<string, unknown>();

  private named<T>(name: string, make: () => T): T {
    let s = this.stores.get(name) as T | undefined;
    if (s === undefined) {
      s = make();
      this.stores.set(name, s);
    }
    return s;
  }

  groups<G>(): GroupStore<G> {
    return this.named("groups", () => new MemoryStore<G>());
  }
  baseline(tuple: string): Baseline {
    return this.named(`baseline\u001f${tuple}`, () => new Baseline());
  }
  correlation<T>(id: string, limit: number, order?: (a: T, b: T) => number): BoundedBuffer<T> {
    return this.named(`correlation\u001f${id}`, () => new MemoryBuffer<T>(limit, order));
  }
  deferred<T>(limit: number): BoundedBuffer<T> {
    return this.named("deferred", () => new MemoryBuffer<T>(limit));
  }
  writers<W>(): Store<W, number> {
    return this.named("writers", () => new HashStore<W>());
  }
  imports<I>(): Store<I, number> {
    return this.named("imports", () => new HashStore<I>());
  }
}

/**
 * Hashes of keys that stores hold by the hundred thousand (baseline tuples, resource ids): a
 * number costs a fraction of the string and of its lower-cased copy. A key hash is 53 bits from
 * two FNV-1a variants over the lower-cased text, so a collision needs both to collide: about one
 * chance in 10^5 among 500,000 keys, and the cost of one is a first-seen key taken as already
 * seen or an author not named. A tuple's hash folds its parts' hashes (each computed once).
 */
const P1 = 0x01000193;
const P2 = 0x5bd1e995;

/** The two 32-bit halves of a part's hash (kept apart so folding is cheap). */
export interface PartHash {
  a: number;
  b: number;
}

const A0 = 0x811c9dc5;
const B0 = P1;

export function partHash(s: string): PartHash {
  let a = A0;
  let b = B0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    else if (c > 127) c = s[i]?.toLowerCase().charCodeAt(0) ?? c;
    a = Math.imul(a ^ c, P1);
    b = Math.imul(b ^ c, P2);
    b ^= b >>> 15;
  }
  return { a, b };
}

/**
 * partHash of the ASCII text in bytes[s, e) followed by `suffix` (ASCII), into `out`: the same
 * value partHash gives the string, without making it.
 */
export function partHashBytes(out: PartHash, bytes: Uint8Array, s: number, e: number, suffix = ""): PartHash {
  let a = A0;
  let b = B0;
  for (let i = s; i < e; i++) {
    let c = bytes[i] as number;
    if (c >= 65 && c <= 90) c += 32;
    a = Math.imul(a ^ c, P1);
    b = Math.imul(b ^ c, P2);
    b ^= b >>> 15;
  }
  for (let i = 0; i < suffix.length; i++) {
    let c = suffix.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    a = Math.imul(a ^ c, P1);
    b = Math.imul(b ^ c, P2);
    b ^= b >>> 15;
  }
  out.a = a;
  out.b = b;
  return out;
}

/** The 53-bit hash of a tuple of parts (one part: of that string). */
export function foldHash(parts: readonly PartHash[]): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (const p of parts) {
    a = Math.imul(a ^ p.a, P1);
    b = Math.imul(b ^ p.b, P2);
    b ^= b >>> 13;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/** foldHash of the parts at `slots` of `hashes`, or -1 when one of them is missing (no array made). */
export function foldSlots(hashes: readonly (PartHash | undefined)[], slots: readonly number[]): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i < slots.length; i++) {
    const p = hashes[slots[i] as number];
    if (!p) return -1;
    a = Math.imul(a ^ p.a, P1);
    b = Math.imul(b ^ p.b, P2);
    b ^= b >>> 13;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

export function keyHash(s: string): number {
  return foldHash([partHash(s)]);
}

interface Bucket<V> {
  lo: number;
  value: V;
  next?: Bucket<V>;
}

/**
 * A store keyed by 53-bit hashes, split into a small-integer map key (so V8 keeps it unboxed) and
 * a 21-bit check chained in its bucket.
 */
export class HashStore<V> implements Store<V, number> {
  private readonly map = new Map<number, Bucket<V>>();
  size = 0;

  get(key: number): V | undefined {
    const lo = key % 0x200000;
    for (let b = this.map.get(Math.floor(key / 0x200000) | 0); b; b = b.next) if (b.lo === lo) return b.value;
    return undefined;
  }

  set(key: number, value: V): void {
    const hi = Math.floor(key / 0x200000) | 0;
    const lo = key % 0x200000;
    const head = this.map.get(hi);
    for (let b = head; b; b = b.next) {
      if (b.lo === lo) {
        b.value = value;
        return;
      }
    }
    this.map.set(hi, head ? { lo, value, next: head } : { lo, value });
    this.size++;
  }

  *values(): IterableIterator<V> {
    for (const head of this.map.values()) for (let b: Bucket<V> | undefined = head; b; b = b.next) yield b.value;
  }

  *entries(): IterableIterator<[number, V]> {
    for (const [hi, head] of this.map)
      for (let b: Bucket<V> | undefined = head; b; b = b.next) yield [(hi >>> 0) * 0x200000 + b.lo, b.value];
  }
}
