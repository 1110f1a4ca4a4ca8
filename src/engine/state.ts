/**
 * What the engine keeps across a stream, behind small interfaces: finding groups, first-seen
 * baselines, correlation buffers, deferred records and who-wrote-what. The in-memory
 * implementation is the default; the state store (SQLite) implements the same interfaces, so
 * persisting state never touches the matcher or the stages.
 */

export interface Store<V, K extends string | number = string> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  readonly size: number;
  values(): IterableIterator<V>;
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
  groups<G>(): Store<G>;
  /** First-seen baseline for one field tuple: hashed key (keyHash) → earliest time seen. */
  baseline(tuple: string): Store<string, number>;
  /** Buffered matches of one correlation's referenced rules. */
  correlation<T>(id: string, limit: number): BoundedBuffer<T>;
  /** Records whose rules run when the input has been read. */
  deferred<T>(limit: number): BoundedBuffer<T>;
  /** Latest write per resource (attribution), by hashed lower-cased resource id (keyHash). */
  writers<W>(): Store<W, number>;
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
}

class MemoryBuffer<T> implements BoundedBuffer<T> {
  private list: T[] = [];
  dropped = 0;
  constructor(readonly limit: number) {}
  push(item: T): boolean {
    if (this.list.length >= this.limit) {
      this.dropped++;
      return false;
    }
    this.list.push(item);
    return true;
  }
  items(): T[] {
    return this.list;
  }
  clear(): void {
    this.list = [];
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

  groups<G>(): Store<G> {
    return this.named("groups", () => new MemoryStore<G>());
  }
  baseline(tuple: string): Store<string, number> {
    return this.named(`baseline\u001f${tuple}`, () => new MemoryStore<string, number>());
  }
  correlation<T>(id: string, limit: number): BoundedBuffer<T> {
    return this.named(`correlation\u001f${id}`, () => new MemoryBuffer<T>(limit));
  }
  deferred<T>(limit: number): BoundedBuffer<T> {
    return this.named("deferred", () => new MemoryBuffer<T>(limit));
  }
  writers<W>(): Store<W, number> {
    return this.named("writers", () => new MemoryStore<W, number>());
  }
}

/**
 * A 53-bit hash of a string, compared case-insensitively, for keys that stores hold by the
 * hundred thousand (baseline tuples, resource ids): a number costs a fraction of the string and
 * of its lower-cased copy. Two FNV-1a variants, so a collision needs both to collide: about one
 * chance in 10^5 among 500,000 keys, and the cost of one is a first-seen key taken as already
 * seen or an author not named.
 */
export function keyHash(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    else if (c > 127) c = s[i]?.toLowerCase().charCodeAt(0) ?? c;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}
