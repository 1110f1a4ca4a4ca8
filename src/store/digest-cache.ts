/**
 * What was derived from content-addressed registry blobs, by digest. A digest names its bytes
 * for ever, so an entry never goes stale: an image seen before costs no blob download. One
 * in-memory cache serves every registry of a scan (the same base layer or config in two
 * repositories or two registries is fetched once); the state store (SQLite, docs/ARCHITECTURE.md)
 * implements the same interface to carry it across scans. Values are plain JSON, so a store can
 * keep them as text.
 */

/** One wanted file of a layer (absolute path; text capped at 64 KiB). */
export interface LayerFileText {
  path: string;
  content: string;
  truncated: boolean;
}

/** A layer's wanted files, and the problem that stopped the read if one did. */
export interface LayerFacts {
  /**
   * How the layer was read (file list and caps, `LAYER_READER`): a result read another way is
   * not reused.
   */
  reader: string;
  files: LayerFileText[];
  problem?: string;
}

export interface DigestFacts {
  /** An image manifest as served, and the media type the registry gave it. */
  manifest: { manifest: Record<string, unknown>; mediaType?: string };
  /** An image config blob, parsed. */
  config: Record<string, unknown>;
  layer: LayerFacts;
}

export type DigestKind = keyof DigestFacts;

export interface DigestCache {
  get<K extends DigestKind>(kind: K, digest: string): DigestFacts[K] | undefined;
  put<K extends DigestKind>(kind: K, digest: string, facts: DigestFacts[K]): void;
}

/** The scan's own cache: everything read in this process, nothing kept after it. */
export class MemoryDigestCache implements DigestCache {
  private readonly map = new Map<string, unknown>();

  get<K extends DigestKind>(kind: K, digest: string): DigestFacts[K] | undefined {
    return this.map.get(`${kind} ${digest}`) as DigestFacts[K] | undefined;
  }

  put<K extends DigestKind>(kind: K, digest: string, facts: DigestFacts[K]): void {
    this.map.set(`${kind} ${digest}`, facts);
  }

  get size(): number {
    return this.map.size;
  }
}
