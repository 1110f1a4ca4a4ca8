/**
 * Reading an Activity Log line without parsing it. Most events in a tenant's log are operations
 * no rule looks at (storage, network, tags …); the scan still needs a few of their fields for
 * every event — the time (the window), who and from where (first-seen baselines), what was written
 * (attribution) — but not the rest. This finds those fields in the line's bytes with native
 * searches (`Buffer.indexOf`) and records where each value is: no string is made of the line, and
 * a consumer that only hashes a value (the first-seen baselines in a worker thread) never makes
 * one of the value either.
 *
 * It is conservative: whenever the line is not plainly one record of a known shape (a key it
 * needs missing, a batch, an escape or a non-ASCII byte in a value it reads), it answers "parse",
 * and the line goes the ordinary way. It takes the first occurrence of each key (after
 * `"claims":{` for claims), which is the record's own in Azure's export and REST shapes; a line
 * whose `properties` repeat one of these keys ahead of the record's own would be misread, which
 * is why the equivalence test runs real and generated corpora both ways. The fields it gives are
 * exactly what the full normaliser (activity.ts) would give: a test compares the two over every
 * line of the demo, the rule tests and a generated corpus.
 *
 * Values with a byte of 0x80 or more are refused, so multi-byte UTF-8 is never decoded here and
 * every value read is ASCII (its bytes are its characters).
 */
import type { ActivityObservation } from "../../model/records.js";
import { normStatus } from "./activity.js";

export type LeanFields = Omit<ActivityObservation, "kind" | "at">;

/** Field slots: each value's [start, end) in the line's buffer is at span[f], span[f + 1]. */
export const F_TIME = 0;
export const F_OP = 2;
export const F_RESOURCE = 4;
export const F_STATUS = 6;
export const F_IP = 8;
export const F_OID = 10;
export const F_APP = 12;
const SLOTS = 14;

const MARKERS = [
  '"time":"',
  '"resourceId":"',
  '"resourceId":',
  '"identity":',
  '"category":',
  '"resultType":"',
  '"callerIpAddress":"',
  '"claims":{',
  // The end of the object-id claim's key (http://schemas.microsoft.com/identity/claims/objectidentifier).
  '/objectidentifier":"',
  '"appid":"',
  '"azp":"',
  '"operationName":"',
  '"operationName":{"value":"',
  '"eventTimestamp":"',
  '"httpRequest":"',
  '"status":{"value":"',
  '"status":',
  '"clientIpAddress":"',
].map((m) => Buffer.from(m, "latin1"));
const M_TIME = 0;
const M_RESOURCE = 1;
const M_RESOURCE_KEY = 2;
const M_IDENTITY_KEY = 3;
const M_CATEGORY_KEY = 4;
const M_RESULT_TYPE = 5;
const M_CALLER_IP = 6;
const M_CLAIMS = 7;
const M_OID = 8;
const M_APPID = 9;
const M_AZP = 10;
const M_OP_EXPORT = 11;
const M_OP_REST = 12;
const M_EVENT_TIME = 13;
const M_HTTP_REQUEST_TEXT = 14;
const M_STATUS_VALUE = 15;
const M_STATUS_KEY = 16;
const M_CLIENT_IP = 17;

/** Keys looked for in any case when absent as Azure spells them (lower case). */
const K_RESOURCE_ID = Buffer.from("resourceid", "latin1");
const K_RESULT_TYPE = Buffer.from("resulttype", "latin1");
const K_CALLER_IP = Buffer.from("calleripaddress", "latin1");
const K_CLIENT_IP = Buffer.from("clientipaddress", "latin1");
const K_STATUS = Buffer.from("status", "latin1");

/** YYYY-MM-DDTHH:MM:SS: 0 for a digit, else the byte itself. */
const TIME_PATTERN = Uint8Array.from("0000-00-00T00:00:00", (c) => (c === "0" ? 0 : c.charCodeAt(0)));

/** Entries kept of the verdicts per operation spelling and statuses per result text. */
const MEMO_LIMIT = 4096;

/** A value's state: absent (no key), read (span set), unreadable (the line must be parsed). */
const ABSENT = 0;
const READ = 1;
const UNREADABLE = -1;

/**
 * One reader per thread, reused for every line. Searches are cached per marker over the buffer
 * the lines come from, so a key missing from most lines (`"httpRequest":"` in exports) costs one
 * search per chunk, not one per line to the end of the chunk.
 */
export class LeanReader {
  /** Where each field's value is, after a `read` that returned true; -1 when the line has none. */
  readonly span = new Int32Array(SLOTS);
  /** The buffer of the last line read. */
  bytes: Buffer = Buffer.alloc(0);
  private end = 0;
  private readonly opVerdict = new Map<string, string | false>();
  private readonly statusOf = new Map<string, string | undefined>();
  private lowerOp = "";
  private statusText = "";
  /** Per marker: the search started at cacheFrom and found cacheAt (-1: nowhere after it) in cacheBuf. */
  private cacheBuf: Buffer | undefined;
  private readonly cacheFrom = new Float64Array(MARKERS.length);
  private readonly cacheAt = new Float64Array(MARKERS.length);

  constructor(private readonly parseOps: ReadonlySet<string>) {}

  /** Where marker `m` first is in [from, end) of the current line, or -1. */
  private find(m: number, from: number): number {
    const b = this.bytes;
    if (this.cacheBuf !== b) {
      this.cacheBuf = b;
      this.cacheFrom.fill(Number.POSITIVE_INFINITY);
    }
    const at = this.cacheAt[m] as number;
    if (!(from >= (this.cacheFrom[m] as number) && (at < 0 || from <= at))) {
      this.cacheAt[m] = b.indexOf(MARKERS[m] as Buffer, from);
      this.cacheFrom[m] = from;
    }
    const found = this.cacheAt[m] as number;
    return found >= 0 && found < this.end ? found : -1;
  }

  /** Reads the string value after marker `m` into field slot `f`. */
  private value(m: number, f: number, from = 0): number {
    const at = this.find(m, from);
    if (at < 0) return ABSENT;
    const b = this.bytes;
    const s = at + (MARKERS[m] as Buffer).length;
    const e = b.indexOf(34, s);
    if (e < 0 || e >= this.end) return UNREADABLE;
    for (let k = s; k < e; k++) {
      const c = b[k] as number;
      if (c === 92 /* \ */ || c >= 0x80 || c < 0x20) return UNREADABLE;
    }
    this.span[f] = s;
    this.span[f + 1] = e;
    return READ;
  }

  private has(f: number): boolean {
    return (this.span[f] as number) >= 0 && (this.span[f + 1] as number) > (this.span[f] as number);
  }

  /** A field's text, or undefined when the line has none (or it is empty). */
  text(f: number): string | undefined {
    if (!this.has(f)) return undefined;
    return this.bytes.toString("latin1", this.span[f] as number, this.span[f + 1] as number);
  }

  /** The lower-cased operation name of the last line read. */
  get operation(): string {
    return this.lowerOp;
  }

  /** The normalised status (Succeeded, Failed, …) of the last line read. */
  get status(): string | undefined {
    return this.statusText ? this.statusOf.get(this.statusText) : undefined;
  }

  /**
   * Whether the line in bytes[start, end) is read here: an Activity Log event, plainly one record,
   * whose operation is not in `parseOps`. False: it must be parsed.
   */
  read(bytes: Buffer, start: number, end: number): boolean {
    this.bytes = bytes;
    this.end = end;
    this.span.fill(-1);
    this.statusText = "";
    if (!isOneRecord(bytes, start, end)) return false;
    const exp = this.value(M_OP_EXPORT, F_OP, start);
    if (exp === UNREADABLE) return false;
    if (exp !== READ && this.value(M_OP_REST, F_OP, start) !== READ) return false;
    // A second operation name: several records in an envelope (`{"body": …}`), which the full
    // reader unwraps.
    const after = this.span[F_OP + 1] as number;
    if (this.find(M_OP_EXPORT, after) >= 0 || this.find(M_OP_REST, after) >= 0) return false;
    if (exp === READ) return this.operationCleared() && this.exportShape(start);
    return this.operationCleared() && this.restShape(start);
  }

  /** Whether the operation read is one no rule needs parsed (and remembers it lower-cased). */
  private operationCleared(): boolean {
    const raw = this.text(F_OP);
    if (!raw) return false;
    let v = this.opVerdict.get(raw);
    if (v === undefined) {
      // Spellings are few in real logs; a hostile input with endless ones must not grow this.
      if (this.opVerdict.size >= MEMO_LIMIT) this.opVerdict.clear();
      const lower = raw.toLowerCase();
      // A name without a slash is a display name or another log's operation ("VaultGet"):
      // the full reader decides what it is.
      v = this.parseOps.has(lower) || !lower.includes("/") ? false : lower;
      this.opVerdict.set(raw, v);
    }
    if (v === false) return false;
    this.lowerOp = v;
    return true;
  }

  private readStatus(raw: string | undefined): void {
    if (!raw) return;
    if (!this.statusOf.has(raw)) {
      if (this.statusOf.size >= MEMO_LIMIT) this.statusOf.clear();
      this.statusOf.set(raw, normStatus(raw));
    }
    this.statusText = raw;
  }

  private principal(start: number): boolean {
    const claims = this.find(M_CLAIMS, start);
    if (claims < 0) return false;
    // Without the object-id claim the principal comes from evidence or the caller: parse.
    if (this.value(M_OID, F_OID, claims) !== READ || !this.has(F_OID)) return false;
    const appid = this.value(M_APPID, F_APP, claims);
    if (appid === UNREADABLE) return false;
    if (appid === ABSENT && this.value(M_AZP, F_APP, claims) === UNREADABLE) return false;
    return true;
  }

  /**
   * Whether the line has the key `"<key>"` in any case (key given in lower case). Asked only when
   * a field is absent as Azure spells it: a variant of it sends the line to the full reader,
   * which reads field names in any case.
   */
  private keyAnyCase(key: Buffer, start: number): boolean {
    const b = this.bytes;
    const n = key.length;
    let i = start;
    for (;;) {
      const q = b.indexOf(34, i);
      if (q < 0 || q + n + 1 >= this.end) return false;
      let k = 0;
      while (k < n && ((b[q + 1 + k] as number) | 0x20) === key[k]) k++;
      if (k === n && b[q + 1 + n] === 34) return true;
      i = q + 1;
    }
  }

  /** Whether the time read is UTC ISO-8601 as Azure writes it (util.ts utcTime keeps these as they are). */
  private timeIsUtcIso(): boolean {
    const b = this.bytes;
    const s = this.span[F_TIME] as number;
    const e = this.span[F_TIME + 1] as number;
    if (e - s < 20 || e - s > 30 || b[e - 1] !== 90 /* Z */) return false;
    for (let k = 0; k < 19; k++) {
      const c = b[s + k] as number;
      const want = TIME_PATTERN[k] as number;
      if (want === 0 ? c < 48 || c > 57 : c !== want) return false;
    }
    if (e - s === 20) return true;
    if (b[s + 19] !== 46 /* . */ || e - s === 21) return false;
    for (let k = s + 20; k < e - 1; k++) if ((b[k] as number) < 48 || (b[k] as number) > 57) return false;
    return e - s - 21 <= 9;
  }

  /** Diagnostic-settings export (Storage PT1H.json, Event Hub records). */
  private exportShape(start: number): boolean {
    if (this.value(M_TIME, F_TIME, start) !== READ || !this.has(F_TIME) || !this.timeIsUtcIso()) return false;
    const resource = this.value(M_RESOURCE, F_RESOURCE, start);
    if (resource === UNREADABLE) return false;
    if (resource === ABSENT && this.keyAnyCase(K_RESOURCE_ID, start)) return false;
    // The export shape needs one of these (activity.ts#isExportActivity); otherwise it is no record
    // of ours. A resourceId string read says the first is there.
    if (
      resource === ABSENT &&
      this.find(M_RESOURCE_KEY, start) < 0 &&
      this.find(M_IDENTITY_KEY, start) < 0 &&
      this.find(M_CATEGORY_KEY, start) < 0
    )
      return false;
    const result = this.value(M_RESULT_TYPE, F_STATUS, start);
    if (result === UNREADABLE || (result === ABSENT && this.keyAnyCase(K_RESULT_TYPE, start))) return false;
    const ip = this.value(M_CALLER_IP, F_IP, start);
    if (ip === UNREADABLE || (ip === ABSENT && this.keyAnyCase(K_CALLER_IP, start))) return false;
    if (!this.principal(start)) return false;
    this.readStatus(this.text(F_STATUS));
    return true;
  }

  /** REST `eventtypes/management/values` events, one per line (`az monitor activity-log list | jq -c '.[]'`). */
  private restShape(start: number): boolean {
    if (this.value(M_EVENT_TIME, F_TIME, start) !== READ || !this.has(F_TIME) || !this.timeIsUtcIso()) return false;
    // httpRequest written as JSON text hides the client address from a plain search.
    if (this.find(M_HTTP_REQUEST_TEXT, start) >= 0) return false;
    // resourceId falls back to authorization.scope in activity.ts: parse when it is absent.
    if (this.value(M_RESOURCE, F_RESOURCE, start) !== READ || !this.has(F_RESOURCE)) return false;
    const status = this.value(M_STATUS_VALUE, F_STATUS, start);
    if (status === UNREADABLE) return false;
    const ip = this.value(M_CLIENT_IP, F_IP, start);
    if (ip === UNREADABLE || (ip === ABSENT && this.keyAnyCase(K_CLIENT_IP, start))) return false;
    // A status object written another way (localizedValue first, another case) would be missed here: parse it.
    if (status === ABSENT && (this.find(M_STATUS_KEY, start) >= 0 || this.keyAnyCase(K_STATUS, start))) return false;
    if (!this.principal(start)) return false;
    this.readStatus(this.text(F_STATUS));
    return true;
  }

  /** The fields of the last line read, as the full normaliser would give them. */
  fields(): LeanFields {
    const out: LeanFields = { time: this.text(F_TIME) as string, operation: this.lowerOp };
    const resourceId = this.text(F_RESOURCE);
    if (resourceId) out.resourceId = resourceId;
    out.principalId = this.text(F_OID) as string;
    const appId = this.text(F_APP);
    if (appId) out.appId = appId;
    const status = this.status;
    if (status) out.status = status;
    const ip = this.text(F_IP);
    if (ip) out.callerIpAddress = ip;
    return out;
  }
}

/**
 * One plain record per line: `{` … `}` (a cut line fails this and is parsed, to be reported), and
 * not a batch (`{"records":[…]}`, `{"value":[…]}`: many records, always parsed).
 */
function isOneRecord(b: Buffer, start: number, end: number): boolean {
  let a = start;
  let z = end - 1;
  while (a <= z && (b[a] === 32 || b[a] === 9)) a++;
  while (z >= a && (b[z] === 32 || b[z] === 9 || b[z] === 13)) z--;
  if (b[a] !== 123 || b[z] !== 125) return false;
  return !ENVELOPE_KEYS.some((k) => startsWithAnyCase(b, a + 1, k));
}

/** First members of an envelope (normalize/envelope.ts), any case: many records, always parsed. */
const ENVELOPE_KEYS = ['"records"', '"value"', '"body"', '"responses"', '"parameters"'].map((k) =>
  Buffer.from(k, "latin1"),
);

function startsWithAnyCase(b: Buffer, at: number, key: Buffer): boolean {
  if (at + key.length > b.length) return false;
  for (let i = 0; i < key.length; i++) if (((b[at + i] as number) | 0x20) !== ((key[i] as number) | 0x20)) return false;
  return true;
}

/**
 * The fields of an Activity Log line whose operation is not in `parseOps` (lower case), or
 * undefined when the line must be parsed: its operation is one rules read, or it is not plainly
 * one event of a shape read here.
 */
export function leanActivity(
  bytes: Buffer,
  start: number,
  end: number,
  parseOps: ReadonlySet<string>,
): LeanFields | undefined {
  const r = readerFor(parseOps);
  return r.read(bytes, start, end) ? r.fields() : undefined;
}

/** Readers by operation set, so repeated calls with one set share the caches. */
const readers = new WeakMap<ReadonlySet<string>, LeanReader>();
function readerFor(parseOps: ReadonlySet<string>): LeanReader {
  let r = readers.get(parseOps);
  if (!r) {
    r = new LeanReader(parseOps);
    readers.set(parseOps, r);
  }
  return r;
}
