/**
 * A minimal, defensive tar reader for image layers: push bytes in, get the regular files a
 * `select` predicate wants. It knows ustar headers (512 bytes: name, octal or base-256 size,
 * checksum, typeflag, prefix), pax extended headers (`path`, `size`) and GNU long names, which is
 * what image builders write (OCI layer.md: "packaged in tar archive", hard links as typeflag '1'
 * per the GNU format). Only typeflag '0' / NUL entries are regular files; links, directories,
 * devices and everything else are skipped by their size and never followed. Nothing is written
 * to disk and nothing read is run. A header that fails its checksum, a size that is not a
 * number, or an archive cut inside an entry throws TarError: the caller reports the layer.
 */

export class TarError extends Error {}

export interface TarFile {
  /** Absolute, normalised: `/etc/cron.d/job` (`./etc/cron.d/job` in the archive). */
  path: string;
  /** At most `maxFileBytes` of the file. */
  content: Buffer;
  /** The size the archive declares. */
  size: number;
  truncated: boolean;
}

export interface TarOptions {
  /** Whether a regular file's content is wanted (normalised absolute path). */
  select(path: string): boolean;
  /** Bytes kept per selected file; the rest is skipped. */
  maxFileBytes: number;
  /** Selected files kept; later ones are counted in `dropped` and skipped. */
  maxFiles: number;
}

const BLOCK = 512;
/** pax and GNU long-name headers are metadata: anything larger is not a real archive. */
const MAX_META_BYTES = 64 * 1024;

type State =
  | { kind: "header" }
  | { kind: "body"; remaining: number; pad: number; onDone?: (data: Buffer) => void; keep: number; parts: Buffer[] }
  | { kind: "done" };

function cstring(b: Buffer, from: number, len: number): string {
  const end = b.indexOf(0, from);
  return b.toString("utf8", from, end < 0 || end > from + len ? from + len : end);
}

function octal(b: Buffer, from: number, len: number, what: string): number {
  // GNU base-256: the high bit of the first byte set, the rest big-endian.
  if (((b[from] as number) & 0x80) !== 0) {
    let n = (b[from] as number) & 0x7f;
    for (let i = from + 1; i < from + len; i++) {
      n = n * 256 + (b[i] as number);
      if (n > Number.MAX_SAFE_INTEGER) throw new TarError(`${what} is out of range`);
    }
    return n;
  }
  const s = b
    .toString("latin1", from, from + len)
    .replace(/\0.*$/s, "")
    .trim();
  if (!/^[0-7]*$/.test(s)) throw new TarError(`${what} is not an octal number`);
  return s === "" ? 0 : Number.parseInt(s, 8);
}

/** `./a//b/` → `/a/b`; undefined for a path that climbs out (`..`). */
export function normalisePath(p: string): string | undefined {
  const parts = p.split("/").filter((x) => x !== "" && x !== ".");
  if (parts.includes("..")) return undefined;
  return `/${parts.join("/")}`;
}

/** pax records: `<len> <key>=<value>\n`, where len counts the whole record. */
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.toString("latin1", i, sp));
    if (!Number.isInteger(len) || len <= sp - i || i + len > data.length) throw new TarError("bad pax record");
    const rec = data.toString("utf8", sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

export class TarReader {
  readonly files: TarFile[] = [];
  /** Entries seen (all types), for tests and notes. */
  entries = 0;
  /** Selected files past `maxFiles`, not kept. */
  dropped = 0;
  private state: State = { kind: "header" };
  private readonly header = Buffer.alloc(BLOCK);
  private headerLen = 0;
  private zeroBlocks = 0;
  private pax = new Map<string, string>();
  private longName: string | undefined;

  constructor(private readonly options: TarOptions) {}

  get done(): boolean {
    return this.state.kind === "done";
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const st = this.state;
      if (st.kind === "done") return;
      if (st.kind === "header") {
        const n = Math.min(BLOCK - this.headerLen, chunk.length - off);
        chunk.copy(this.header, this.headerLen, off, off + n);
        this.headerLen += n;
        off += n;
        if (this.headerLen === BLOCK) {
          this.headerLen = 0;
          this.onHeader();
        }
        continue;
      }
      if (st.remaining > 0) {
        const n = Math.min(st.remaining, chunk.length - off);
        if (st.keep > 0) {
          const k = Math.min(st.keep, n);
          st.parts.push(Buffer.from(chunk.subarray(off, off + k)));
          st.keep -= k;
        }
        st.remaining -= n;
        off += n;
        if (st.remaining > 0) continue;
      }
      if (st.pad > 0) {
        const n = Math.min(st.pad, chunk.length - off);
        st.pad -= n;
        off += n;
        if (st.pad > 0) continue;
      }
      this.state = { kind: "header" };
      st.onDone?.(Buffer.concat(st.parts));
    }
  }

  /** The input ended: fine at an entry boundary (with or without the two zero blocks). */
  end(): void {
    if (this.state.kind === "done") return;
    if (this.state.kind === "header" && this.headerLen === 0) {
      this.state = { kind: "done" };
      return;
    }
    throw new TarError("archive is cut off inside an entry");
  }

  private body(size: number, keep: number, onDone?: (data: Buffer) => void): void {
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = { kind: "body", remaining: size, pad, keep, parts: [], ...(onDone ? { onDone } : {}) };
    if (size === 0 && pad === 0) {
      this.state = { kind: "header" };
      onDone?.(Buffer.alloc(0));
    }
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.state = { kind: "done" };
      return;
    }
    if (this.zeroBlocks > 0) throw new TarError("data after an end-of-archive block");
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    if (octal(h, 148, 8, "header checksum") !== sum) throw new TarError("header checksum does not match");
    this.entries++;
    const type = String.fromCharCode(h[156] as number);
    const headerSize = octal(h, 124, 12, "entry size");
    const paxSize = this.pax.get("size");
    const size = paxSize !== undefined && /^\d+$/.test(paxSize) ? Number(paxSize) : headerSize;
    if (!Number.isSafeInteger(size)) throw new TarError("entry size is out of range");

    // Metadata for the next entry.
    if (type === "x" || type === "L") {
      if (size > MAX_META_BYTES) throw new TarError(`${type === "x" ? "pax" : "long name"} header is too large`);
      this.body(size, size, (data) => {
        if (type === "x") this.pax = parsePax(data);
        else this.longName = cstring(data, 0, data.length);
      });
      return;
    }
    if (type === "g" || type === "K") {
      // Global pax headers and GNU long link names are not needed: links are never followed.
      this.body(size, 0);
      return;
    }

    const magic = h.toString("latin1", 257, 263);
    const prefix = magic.startsWith("ustar") ? cstring(h, 345, 155) : "";
    const name = cstring(h, 0, 100);
    const raw = this.pax.get("path") ?? this.longName ?? (prefix ? `${prefix}/${name}` : name);
    this.pax = new Map();
    this.longName = undefined;

    const path = type === "0" || type === "\0" ? normalisePath(raw) : undefined;
    const base = path?.slice(path.lastIndexOf("/") + 1) ?? "";
    // Whiteouts (`.wh.<name>`) only delete; regular files only: links are never followed.
    if (path === undefined || base.startsWith(".wh.") || !this.options.select(path)) {
      this.body(size, 0);
      return;
    }
    if (this.files.length >= this.options.maxFiles) {
      this.dropped++;
      this.body(size, 0);
      return;
    }
    const keep = Math.min(size, this.options.maxFileBytes);
    this.body(size, keep, (data) => {
      this.files.push({ path, content: data, size, truncated: size > data.length });
    });
  }
}
