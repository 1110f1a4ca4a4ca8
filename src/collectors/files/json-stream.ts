/**
 * Streams JSON values out of a file without holding the whole file in memory.
 *
 * Accepted layouts:
 * - JSON Lines (one document per line; Storage PT1H.json archives, `jq -c` output), decided when
 *   the first non-blank line is a complete JSON document on its own;
 * - one JSON document: a top-level array (what `az ... list` prints), or an object. When an
 *   object's member `value` (ARM list pages) or `records` (Event Hub / diagnostic exports) is an
 *   array, its elements are streamed one by one; any other object is a single value.
 *
 * A malformed element or line is reported as an `error` item with its line and the reader goes
 * on; only a file that is not JSON at all is a fatal error (thrown as NotJsonError).
 */
import { createReadStream, type ReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline, type Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { expandEnvelopes } from "../../azure/normalize/envelope.js";
import type { ActivityObservation, Origin } from "../../model/records.js";
import type { LineFilter } from "../types.js";

export type StreamItem =
  /** `element`: the record's index among several on its line (a one-line document, a batch). */
  | { ok: true; value: unknown; line: number; element?: number }
  /** A line the filter cleared: not parsed, only observed. */
  | { ok: true; observation: Omit<ActivityObservation, "kind" | "at">; line: number; offset: number; length: number }
  | { ok: false; error: string; line: number };

export class NotJsonError extends Error {}

/** Where a streamed record is, as records and evidence name it. */
export function originOf(location: string, item: { line: number; element?: number }): Omit<Origin, "shape"> {
  return item.element === undefined
    ? { location, index: item.line }
    : { location, index: item.line, element: item.element };
}

/** Wrapper members whose array elements are records (any case). */
const WRAPPER_KEYS = new Set(["value", "records"]);
type Json = Record<string, unknown>;

/** Largest single JSON value we accept; anything bigger is reported, not parsed. */
export const MAX_VALUE_CHARS = 32 * 1024 * 1024;

/**
 * Decompression bomb cap: a .gz file whose output passes GZIP_RATIO_FLOOR bytes and GZIP_MAX_RATIO
 * times the compressed bytes read so far is not read on. Activity Log JSON compresses about 16:1
 * (the demo's pages), a file of one record repeated about 170:1; a bomb (zeros, blank lines)
 * about 1000:1, the most deflate gives.
 */
export const GZIP_MAX_RATIO = 500;
export const GZIP_RATIO_FLOOR = 8 * 1024 * 1024;

/** A .gz file's decompressed bytes, stopped with an error past the bomb cap. */
function gunzipped(raw: ReadStream): Readable {
  let out = 0;
  const gunzip = createGunzip();
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      out += chunk.length;
      // bytesWritten: the compressed bytes gunzip has consumed (not merely read from disk).
      const consumed = Math.max(1, gunzip.bytesWritten);
      if (out > GZIP_RATIO_FLOOR && out > GZIP_MAX_RATIO * consumed) {
        done(
          new Error(
            `decompresses to more than ${GZIP_MAX_RATIO} times its compressed size (${out} bytes out of ${consumed}), as a decompression bomb does: not read past that`,
          ),
        );
        return;
      }
      done(null, chunk);
    },
  });
  return pipeline(raw, gunzip, cap, () => {});
}

function openText(path: string): Readable {
  const raw = createReadStream(path);
  const src = /\.gz$/i.test(path) ? gunzipped(raw) : raw;
  raw.on("error", (e) => src.destroy(e));
  src.setEncoding("utf8");
  return src;
}

/** Options for reading one file: a filter for lines that need not be parsed (JSON Lines only). */
export interface StreamOptions {
  filter?: LineFilter;
}

/** Items in batches (one per chunk read), so that the cost of an async step is per megabyte, not per record. */
export async function* streamJsonFile(path: string, options: StreamOptions = {}): AsyncGenerator<StreamItem[]> {
  // Peek at the first non-blank line to choose the mode, then restart the stream. Reading the
  // head twice is cheaper than buffering, and keeps the two modes independent.
  const d = await detect(path);
  if (d.mode === "empty") return;
  if (d.mode === "lines") yield* streamLines(path, options.filter);
  else {
    yield* streamDocument(path, d.linesFrom);
    if (d.linesFrom !== undefined) yield* streamLines(path, options.filter, undefined, d.linesFrom);
  }
}

/** One byte range of a plain JSON Lines file (see lineRanges), as streamJsonFile would read it. */
export function streamLineRange(path: string, range: LineRange, filter?: LineFilter): AsyncGenerator<StreamItem[]> {
  return streamLines(path, filter, range);
}

/**
 * Splits a plain file into about `parts` byte ranges that start at line starts, each with the
 * number of its first line (counted here, so every record keeps its true line). Reading the
 * file for newlines costs a fraction of reading it for records.
 */
/** Bytes per read of the line-counting pass. */
const COUNT_CHUNK = 4 << 20;

export async function lineRanges(path: string, size: number, parts: number): Promise<LineRange[]> {
  const targets = Array.from({ length: parts - 1 }, (_, i) => Math.floor((size * (i + 1)) / parts));
  const cuts: { at: number; line: number }[] = [];
  let lines = 0;
  let pos = 0;
  let t = 0;
  // One buffer, read into again and again: this pass only counts, nothing keeps a slice of it, and
  // a fresh buffer per chunk (as a stream hands out) made it cost 5-7× more (2 GB: 1.1-1.8 s
  // against 0.2 s), all of it before the workers could start.
  const fd = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(COUNT_CHUNK);
    for (;;) {
      const { bytesRead } = await fd.read(buf, 0, buf.length, pos);
      if (bytesRead <= 0) break;
      const chunk = bytesRead < buf.length ? buf.subarray(0, bytesRead) : buf;
      let s = 0;
      for (;;) {
        const nl = chunk.indexOf(10, s);
        if (nl < 0) break;
        lines++;
        // A range starts after the first newline at or past its target.
        while (t < targets.length && pos + nl >= (targets[t] as number)) {
          cuts.push({ at: pos + nl + 1, line: lines + 1 });
          t++;
        }
        s = nl + 1;
      }
      pos += bytesRead;
    }
  } finally {
    await fd.close();
  }
  const ranges: LineRange[] = [];
  let start = 0;
  let firstLine = 1;
  for (const c of cuts) {
    if (c.at <= start || c.at >= size) continue;
    ranges.push({ start, end: c.at, firstLine });
    start = c.at;
    firstLine = c.line;
  }
  ranges.push({ start, end: size, firstLine });
  return ranges;
}

/** Bytes looked at to choose the mode: a first line longer than this is read as a document. */
const PEEK_BYTES = 1 << 20;

/**
 * How a file is read: as JSON Lines, as one document (or documents one after another), or — when
 * its first line is too long to choose by or is not JSON by itself but the line after it is a
 * whole JSON object or array — line 1 as a document (streamed, whatever its size) and every line
 * from `linesFrom` on as JSON Lines, so that one broken line cannot swallow the lines after it.
 */
interface Detected {
  mode: "lines" | "document" | "empty";
  linesFrom?: number;
}

/** Whether `text` is a whole JSON object or array. */
function isJsonContainer(text: string): boolean {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return false;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === "object";
  } catch {
    return false;
  }
}

/**
 * JSON Lines when the first non-blank line is a whole JSON document, else one document. A first
 * line longer than PEEK_BYTES (a minified document of any size) is read as a document: the
 * document reader streams its records and also reads documents that follow one another, so
 * JSON Lines with a very long first line are read as well. When the next non-blank line is a
 * whole JSON object or array (JSON Lines), the lines after the first are read as JSON Lines: a
 * broken first line is then one unreadable record, not the end of the file.
 */
export async function detectMode(path: string): Promise<"lines" | "document" | "empty"> {
  return (await detect(path)).mode;
}

async function detect(path: string): Promise<Detected> {
  let head: Buffer = Buffer.alloc(0);
  /** Bytes of the file before `head` (while looking past a first line longer than PEEK_BYTES). */
  let skipped = 0;
  let firstEnd = -1;
  let firstStart = -1;
  let firstLineNo = 1;
  let firstShort = "";
  let complete = true;
  const it = chunks(path)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const c = next.value;
      head = head.length === 0 ? c : Buffer.concat([head, c]);
      if (firstStart < 0) {
        // Find the first non-blank line's start and end in the head.
        let start = skipped === 0 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
        let lineNo = 1;
        for (;;) {
          while (start < head.length && (head[start] === 32 || head[start] === 9 || head[start] === 13)) start++;
          if (start < head.length && head[start] === 10) {
            start++;
            lineNo++;
            continue;
          }
          break;
        }
        if (start >= head.length) {
          if (head.length >= PEEK_BYTES) head = Buffer.alloc(0);
          continue;
        }
        const ch = head[start];
        if (ch !== 123 && ch !== 91 && ch !== 34) throw new NotJsonError("is not JSON or JSON Lines");
        firstStart = start;
        firstLineNo = lineNo;
      }
      if (firstEnd < 0) {
        const nl = head.indexOf(10, skipped === 0 ? firstStart : 0);
        if (nl >= 0) {
          firstEnd = nl;
          if (skipped === 0) {
            const text = head.toString("utf8", firstStart, nl);
            if (isJsonContainer(text) || isJsonString(text)) return { mode: "lines" };
            firstShort = text.trim();
          }
          // Keep only what follows the first line, to look at the next one.
          head = head.subarray(nl + 1);
          skipped = 1;
          continue;
        }
        if (head.length >= PEEK_BYTES) {
          // A first line longer than PEEK_BYTES: drop what was seen, look on for its end.
          skipped += head.length;
          head = Buffer.alloc(0);
          firstShort = "(long)";
        }
        continue;
      }
      if (head.length >= PEEK_BYTES) {
        complete = false;
        break;
      }
    }
  } finally {
    await it.return?.(undefined);
  }
  if (firstStart < 0) return { mode: "empty" };
  if (firstEnd < 0) {
    // One line, no newline after it.
    if (skipped > 0) return { mode: "document" };
    const text = head.toString("utf8", firstStart);
    return isJsonContainer(text) || isJsonString(text) ? { mode: "lines" } : { mode: "document" };
  }
  // The first line is not JSON by itself (or too long to tell): are the next lines JSON Lines?
  // JSON Lines when the lines after it (as far as the peek window goes) hold whole JSON objects
  // or arrays — more of them than lines ending with a comma — and none that only a
  // pretty-printed document has: a member (`"key": value`) or a closing bracket.
  const lines = head.toString("utf8").split("\n");
  // A line cut off by the peek window is not a whole line.
  const cut = complete ? undefined : lines.pop();
  const next = lines.filter((l) => l.trim() !== "");
  if (next.some((l) => /^\s*["\]}]/.test(l))) return { mode: "document" };
  let whole = next.filter(isJsonContainer).length;
  // The next line is longer than the window, after a short first line that is not JSON: JSON
  // Lines when that first line is a cut record (starts with "{", does not end where a document's
  // line breaks: after "[", "{", "," or ":") and the long line starts a record at column 0 (a
  // pretty-printed document's inner lines are indented).
  if (
    next.length === 0 &&
    cut?.startsWith("{") &&
    firstShort !== "(long)" &&
    firstShort.startsWith("{") &&
    !/[[{,:]$/.test(firstShort)
  )
    whole = 1;
  if (whole === 0 || whole <= next.filter((l) => /,\s*$/.test(l)).length) return { mode: "document" };
  // A long first line: streamed as a document (it may hold many records), the rest read as JSON
  // Lines. A short one that is not JSON: JSON Lines whose first line is broken.
  return firstShort === "(long)" ? { mode: "document", linesFrom: firstLineNo + 1 } : { mode: "lines" };
}

function isJsonString(text: string): boolean {
  const t = text.trim();
  if (!t.startsWith('"')) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** A byte range of a plain file, and the line number and offset its first line has. */
export interface LineRange {
  start: number;
  end: number;
  firstLine: number;
}

/** Raw chunks of a file (or of a byte range of a plain one), decompressed when it is .gz. */
async function* chunks(path: string, range?: LineRange): AsyncGenerator<Buffer> {
  const raw = createReadStream(
    path,
    range ? { highWaterMark: 1 << 20, start: range.start, end: range.end - 1 } : { highWaterMark: 1 << 20 },
  );
  const src: Readable = /\.gz$/i.test(path) ? gunzipped(raw) : raw;
  raw.on("error", (e) => src.destroy(e));
  try {
    for await (const c of src as AsyncIterable<Buffer>) yield c;
  } finally {
    src.destroy();
    raw.destroy();
  }
}

interface RawLine {
  buf: Buffer;
  start: number;
  end: number;
  /** 1-based line number and byte offset of the line in the (decompressed) file. */
  line: number;
  offset: number;
  /** Longer than MAX_VALUE_CHARS: its bytes were not kept. */
  tooLong: boolean;
}

/**
 * Splits chunks into lines as byte ranges over the chunks they arrive in (no copy, no decoding),
 * with their line numbers and offsets. A line split across two chunks is joined; one longer than
 * MAX_VALUE_CHARS is not buffered, only reported.
 */
class LineSplitter {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private tooLong = false;

  /** `line` lines and `offset` bytes come before the first line it is given. */
  constructor(
    private line = 0,
    private offset = 0,
  ) {}

  private emit(buf: Buffer, start: number, end: number): RawLine {
    const r: RawLine = { buf, start, end, line: ++this.line, offset: this.offset, tooLong: this.tooLong };
    this.offset += (this.tooLong ? this.carryLen : end - start) + 1;
    return r;
  }

  private keep(part: Buffer): void {
    this.carryLen += part.length;
    if (this.carryLen > MAX_VALUE_CHARS) this.tooLong = true;
    if (this.tooLong) this.carry = [];
    else this.carry.push(part);
  }

  *push(chunk: Buffer): Generator<RawLine> {
    let s = 0;
    if (this.carryLen > 0 || this.tooLong) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.keep(chunk);
        return;
      }
      this.keep(chunk.subarray(0, nl));
      const joined = this.tooLong ? Buffer.alloc(0) : Buffer.concat(this.carry);
      yield this.emit(joined, 0, joined.length);
      this.carry = [];
      this.carryLen = 0;
      this.tooLong = false;
      s = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, s);
      if (nl < 0) break;
      yield this.emit(chunk, s, nl);
      s = nl + 1;
    }
    if (s < chunk.length) this.keep(chunk.subarray(s));
  }

  *end(): Generator<RawLine> {
    if (this.carryLen > 0 || this.tooLong) {
      const joined = this.tooLong ? Buffer.alloc(0) : Buffer.concat(this.carry);
      yield this.emit(joined, 0, joined.length);
    }
  }
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

function lineItem(l: RawLine, filter: LineFilter | undefined, out: StreamItem[]): void {
  let start = l.start;
  // A byte-order mark on the first line (UTF-8: EF BB BF).
  if (l.line === 1 && l.buf[start] === 0xef && l.buf[start + 1] === 0xbb && l.buf[start + 2] === 0xbf) start += 3;
  if (l.tooLong) {
    out.push({ ok: false, error: `line is longer than ${MAX_VALUE_CHARS} characters`, line: l.line });
    return;
  }
  if (isBlank(l.buf, start, l.end)) return;
  if (filter?.take) {
    if (filter.take(l.buf, start, l.end, l.line, l.offset)) return;
  } else if (filter) {
    const observation = filter.observe(l.buf, start, l.end);
    if (observation) {
      out.push({ ok: true, observation, line: l.line, offset: l.offset, length: l.end - l.start });
      return;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(l.buf.toString("utf8", start, l.end));
  } catch (e) {
    out.push({ ok: false, error: `not valid JSON (${(e as Error).message})`, line: l.line });
    return;
  }
  for (const item of unwrap(value, l.line)) out.push(item);
}

/** JSON Lines, a batch of items per chunk read (about a megabyte), so a line costs no async step. */
async function* streamLines(
  path: string,
  filter?: LineFilter,
  range?: LineRange,
  /** Lines before this one are passed over (read as a document already). */
  fromLine = 1,
): AsyncGenerator<StreamItem[]> {
  const splitter = range ? new LineSplitter(range.firstLine - 1, range.start) : new LineSplitter();
  for await (const chunk of chunks(path, range)) {
    const out: StreamItem[] = [];
    for (const l of splitter.push(chunk)) if (l.line >= fromLine) lineItem(l, filter, out);
    if (out.length > 0) yield out;
  }
  const out: StreamItem[] = [];
  for (const l of splitter.end()) if (l.line >= fromLine) lineItem(l, filter, out);
  if (out.length > 0) yield out;
}

/**
 * JSON Lines from any stream of bytes (a downloaded Storage blob, say), split, pre-filtered and
 * parsed exactly as a file's lines are: a batch of items per chunk that arrives. Line numbers
 * and byte offsets count from the start of the stream.
 */
export async function* streamJsonLines(
  source: AsyncIterable<Uint8Array>,
  options: StreamOptions = {},
): AsyncGenerator<StreamItem[]> {
  const splitter = new LineSplitter();
  for await (const c of source) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const out: StreamItem[] = [];
    for (const l of splitter.push(chunk)) lineItem(l, options.filter, out);
    if (out.length > 0) yield out;
  }
  const out: StreamItem[] = [];
  for (const l of splitter.end()) lineItem(l, options.filter, out);
  if (out.length > 0) yield out;
}

/** One line's text from its bytes as read back (a byte-order mark on line 1 dropped). */
export function lineText(bytes: Buffer, line: number): string {
  const bom = line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.toString("utf8", bom ? 3 : 0);
}

/**
 * The text of given lines (by line number) of one file: read back at the end of a scan for the
 * few events a stage needs in full after the pre-filter cleared them.
 */
export async function readLines(path: string, lines: ReadonlySet<number>): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (lines.size === 0) return out;
  const splitter = new LineSplitter();
  const take = (l: RawLine) => {
    if (!lines.has(l.line) || l.tooLong) return;
    let start = l.start;
    if (l.line === 1 && l.buf[start] === 0xef && l.buf[start + 1] === 0xbb && l.buf[start + 2] === 0xbf) start += 3;
    out.set(l.line, l.buf.toString("utf8", start, l.end));
  };
  for await (const chunk of chunks(path)) {
    for (const l of splitter.push(chunk)) take(l);
    if (out.size === lines.size) return out;
  }
  for (const l of splitter.end()) take(l);
  return out;
}

function* unwrap(value: unknown, line: number): Generator<StreamItem> {
  // One record per line is the common case: no envelope to look into.
  if (value !== null && typeof value === "object" && !Array.isArray(value) && !maybeEnvelope(value as Json)) {
    yield { ok: true, value, line };
    return;
  }
  const values = expandEnvelopes(value);
  if (values.length === 1) {
    yield { ok: true, value: values[0], line };
    return;
  }
  for (const [element, v] of values.entries()) yield { ok: true, value: v, line, element };
}

/** Whether an object may be an envelope (expandEnvelopes decides): cheap, no key is lower-cased. */
function maybeEnvelope(o: Json): boolean {
  for (const k in o) {
    const c = k.charCodeAt(0) | 0x20;
    const n = k.length;
    // records, value, body, responses, in any case: the first letter and the length.
    if ((c === 114 && (n === 7 || n === 9)) || (c === 118 && n === 5) || (c === 98 && n === 4)) return true;
  }
  return false;
}

/**
 * Character scanner for one JSON document. It finds the boundaries of the record values
 * (elements of a top-level array or of a wrapper member) and hands each to JSON.parse, so
 * memory is bounded by the largest record, not the file.
 */
/**
 * One JSON document's records, batched like lines. Envelopes inside elements are unwrapped; a
 * record that shares its line with others (a one-line document) gets its index on that line,
 * so evidence finds it: one item is held back until the next shows whether its line is shared.
 */
async function* streamDocument(path: string, stopAtLine?: number): AsyncGenerator<StreamItem[]> {
  let batch: StreamItem[] = [];
  let held: StreamItem | undefined;
  let onLine = 0;
  const take = (item: StreamItem) => {
    if (held && held.line === item.line) {
      if (held.ok && "value" in held && held.element === undefined) held.element = onLine;
      onLine++;
      if (item.ok && "value" in item) item.element = onLine;
    } else onLine = 0;
    if (held) batch.push(held);
    held = item;
  };
  for await (const item of documentItems(path, stopAtLine)) {
    if (item.ok && "value" in item)
      for (const v of expandEnvelopes(item.value)) take({ ok: true, value: v, line: item.line });
    else take(item);
    if (batch.length >= 512) {
      yield batch;
      batch = [];
    }
  }
  if (held) batch.push(held);
  if (batch.length > 0) yield batch;
}

/** `stopAtLine`: read only the lines before it (the first line of JSON Lines, see detect). */
async function* documentItems(path: string, stopAtLine?: number): AsyncGenerator<StreamItem> {
  const input = openText(path);
  let depth = 0;
  let inString = false;
  let escaped = false;
  let line = 1;
  /** Depth at which record values live: 1 for a top-level array, 2 inside a wrapper member. */
  let recordDepth = -1;
  let rootIsObject = false;
  /** Text of the current record value (or of the whole root object until we know better). */
  let buf: string[] = [];
  let bufLen = 0;
  let capturing = false;
  let unitLine = 1;
  let tooBig = false;
  // For wrapper detection at depth 1 in a root object: the last key and whether ':' followed.
  let keyStart = -1;
  let lastKey = "";
  let keyParts: string[] = [];
  let awaitingValueOfKey = false;
  let first = true;
  let rootDone = false;

  const flush = function* (): Generator<StreamItem> {
    const text = buf.join("");
    buf = [];
    const wasTooBig = tooBig;
    bufLen = 0;
    tooBig = false;
    capturing = false;
    if (wasTooBig) {
      yield { ok: false, error: `record is longer than ${MAX_VALUE_CHARS} characters`, line: unitLine };
      return;
    }
    try {
      const value: unknown = JSON.parse(text);
      yield { ok: true, value, line: unitLine };
    } catch (e) {
      yield { ok: false, error: `not valid JSON (${(e as Error).message})`, line: unitLine };
    }
  };

  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let segStart = capturing ? 0 : -1;
      let s = chunk;
      if (first) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        first = false;
      }
      for (let i = 0; i < s.length; i++) {
        const ch = s.charCodeAt(i);
        if (ch === 10) {
          line++;
          if (stopAtLine !== undefined && line >= stopAtLine) {
            // The long first line of JSON Lines has ended: whole (its records are out), or
            // broken (one unreadable record); the lines after it are read as lines.
            if (depth > 0 || inString)
              yield {
                ok: false,
                error: "not valid JSON (the line ends before its JSON document is closed)",
                line: line - 1,
              };
            return;
          }
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (ch === 92) escaped = true;
          else if (ch === 34) {
            inString = false;
            if (keyStart >= 0) {
              keyParts.push(s.slice(keyStart, i));
              lastKey = keyParts.join("");
              keyParts = [];
              keyStart = -1;
            }
          }
          continue;
        }
        if (ch === 32 || ch === 9 || ch === 13 || ch === 10) continue;
        if (rootDone) {
          // Another document after the first (JSON Lines whose first line was too long to choose
          // by, or documents written one after another): read it the same way.
          if (ch !== 123 && ch !== 91) throw new NotJsonError("has text after the end of its JSON document");
          rootDone = false;
          recordDepth = -1;
          rootIsObject = false;
          awaitingValueOfKey = false;
          lastKey = "";
        }
        // Start of a record value?
        if (!capturing && depth === recordDepth && ch !== 44 && ch !== 93) {
          capturing = true;
          unitLine = line;
          segStart = i;
        }
        if (ch === 34) {
          inString = true;
          if (rootIsObject && depth === 1 && recordDepth < 0 && !awaitingValueOfKey) {
            keyStart = i + 1;
          }
          continue;
        }
        if (ch === 58 /* : */) {
          if (rootIsObject && depth === 1 && recordDepth < 0) awaitingValueOfKey = true;
          continue;
        }
        if (ch === 123 /* { */ || ch === 91 /* [ */) {
          if (depth === 0) {
            rootIsObject = ch === 123;
            if (!rootIsObject) recordDepth = 1;
            else {
              // Capture the root object until a wrapper member shows up.
              capturing = true;
              unitLine = line;
              segStart = i;
            }
          } else if (
            rootIsObject &&
            depth === 1 &&
            recordDepth < 0 &&
            awaitingValueOfKey &&
            ch === 91 &&
            WRAPPER_KEYS.has(lastKey.toLowerCase())
          ) {
            // `{"value": [` — stream the elements and drop the wrapper text.
            recordDepth = 2;
            capturing = false;
            buf = [];
            bufLen = 0;
            segStart = -1;
          }
          if (depth === 1) awaitingValueOfKey = false;
          depth++;
          continue;
        }
        if (ch === 125 /* } */ || ch === 93 /* ] */) {
          depth--;
          if (depth < 0) {
            throw new NotJsonError(`has an unbalanced '${String.fromCharCode(ch)}' at line ${line}`);
          }
          if (capturing && recordDepth > 0) {
            if (depth === recordDepth) {
              // Closed a container that is itself the record.
              pushSeg(s.slice(segStart, i + 1));
              segStart = -1;
              yield* flush();
            } else if (depth === recordDepth - 1) {
              // Closed the record array while a scalar record was open.
              pushSeg(s.slice(segStart, i));
              segStart = -1;
              yield* flush();
            }
          }
          if (depth === 0) {
            if (capturing && recordDepth < 0) {
              // A root object with no wrapper member is one value.
              pushSeg(s.slice(segStart, i + 1));
              segStart = -1;
              yield* flush();
            }
            rootDone = true;
          }
          if (rootIsObject && depth === 1) awaitingValueOfKey = false;
          continue;
        }
        if (ch === 44 /* , */) {
          if (capturing && depth === recordDepth) {
            if (segStart >= 0) pushSeg(s.slice(segStart, i));
            segStart = -1;
            yield* flush();
          } else if (rootIsObject && depth === 1) {
            awaitingValueOfKey = false;
          }
        }
        // Scalars: handled as part of the captured text.
      }
      if (inString && keyStart >= 0) {
        keyParts.push(s.slice(keyStart));
        keyStart = 0;
      }
      if (capturing && segStart >= 0) pushSeg(s.slice(segStart));
    }
  } catch (e) {
    if (e instanceof NotJsonError) throw e;
    yield { ok: false, error: `could not be read to the end (${(e as Error).message})`, line };
    return;
  } finally {
    input.destroy();
  }
  if (depth > 0 || inString) {
    yield { ok: false, error: "is truncated: the JSON document ends before it is closed", line };
  }

  function pushSeg(seg: string): void {
    if (tooBig) return;
    bufLen += seg.length;
    if (bufLen > MAX_VALUE_CHARS) {
      tooBig = true;
      buf = [];
      return;
    }
    buf.push(seg);
  }
}
