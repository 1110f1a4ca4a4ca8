/**
 * Reading an Activity Log line without parsing it. Most events in a tenant's log are operations
 * no rule looks at (storage, network, tags …); the scan still needs a few of their fields for
 * every event — the time (the window), who and from where (first-seen baselines), what was written
 * (attribution) — but not the rest. This reads those fields from the line's text with string
 * searches, about ten times cheaper than JSON.parse.
 *
 * It is conservative: whenever the line is not plainly one record of a known shape (a key it
 * needs missing, a batch, an escape or a non-ASCII character in a value it reads), it answers
 * "parse", and the line goes the ordinary way. It takes the first occurrence of each key (after
 * `"claims":{` for claims), which is the record's own in Azure's export and REST shapes; a line
 * whose `properties` repeat one of these keys ahead of the record's own would be misread, which
 * is why the equivalence test runs real and generated corpora both ways. The fields it returns are exactly what
 * the full normaliser (activity.ts) would give: a test compares the two over every line of the
 * demo, the rule tests and a generated corpus.
 *
 * The text is the line's bytes as latin1 characters: markers are ASCII, and any value with a byte
 * of 0x80 or more is refused (so multi-byte UTF-8 never has to be decoded here).
 */
import type { ActivityObservation } from "../../model/records.js";
import { normStatus } from "./activity.js";

export type LeanFields = Omit<ActivityObservation, "kind" | "at">;

/** The end of the object-id claim's key (http://schemas.microsoft.com/identity/claims/objectidentifier). */
const OID = '/objectidentifier":"';

/**
 * Marker → the value's text, undefined when absent, null when it cannot be read here. The first
 * occurrence (from `from`) counts: the keys read here are top-level, or in the token's claims, in
 * both shapes. Searches cost what they scan, so each starts as late in the line as it can.
 */
/** One line's text (latin1) and bytes: values are copied out of the bytes, so no string keeps the line alive. */
interface Line {
  text: string;
  bytes: Buffer;
  at: number;
}

function value(l: Line, marker: string, from = 0): string | undefined | null {
  const line = l.text;
  const i = line.indexOf(marker, from);
  if (i < 0) return undefined;
  const start = i + marker.length;
  const end = line.indexOf('"', start);
  if (end < 0) return null;
  for (let k = start; k < end; k++) {
    const c = line.charCodeAt(k);
    if (c === 92 /* \ */ || c >= 0x80 || c < 0x20) return null;
  }
  return l.bytes.toString("latin1", l.at + start, l.at + end);
}

/**
 * One plain record per line: `{` … `}` (a cut line fails this and is parsed, to be reported), and
 * not a batch (`{"records":[…]}`, `{"value":[…]}`: many records, always parsed).
 */
function isOneRecord(line: string): boolean {
  let a = 0;
  let b = line.length - 1;
  while (a <= b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b >= a && (line.charCodeAt(b) === 32 || line.charCodeAt(b) === 9 || line.charCodeAt(b) === 13)) b--;
  if (line.charCodeAt(a) !== 123 || line.charCodeAt(b) !== 125) return false;
  return !line.startsWith('"records"', a + 1) && !line.startsWith('"value"', a + 1);
}

function principalFields(line: Line): { principalId: string; appId?: string } | null {
  const claims = line.text.indexOf('"claims":{');
  if (claims < 0) return null;
  // Without the object-id claim the principal comes from evidence or the caller: parse.
  const oid = value(line, OID, claims);
  if (!oid) return null;
  const appid = value(line, '"appid":"', claims);
  if (appid === null) return null;
  let appId: string | undefined = appid;
  if (appId === undefined) {
    const azp = value(line, '"azp":"', claims);
    if (azp === null) return null;
    appId = azp;
  }
  return appId ? { principalId: oid, appId } : { principalId: oid };
}

/** Diagnostic-settings export (Storage PT1H.json, Event Hub records). */
function exportShape(line: Line, operationName: string): LeanFields | null {
  const time = value(line, '"time":"');
  if (!time) return null;
  // The export shape needs one of these (activity.ts#isExportActivity); otherwise it is no record of ours.
  const t = line.text;
  if (t.indexOf('"resourceId":') < 0 && t.indexOf('"identity":') < 0 && t.indexOf('"category":') < 0) return null;
  const resourceId = value(line, '"resourceId":"');
  const resultType = value(line, '"resultType":"');
  const ip = value(line, '"callerIpAddress":"');
  if (resourceId === null || resultType === null || ip === null) return null;
  const p = principalFields(line);
  if (!p) return null;
  const out: LeanFields = { time, operation: operationName.toLowerCase(), ...p };
  if (resourceId) out.resourceId = resourceId;
  const status = normStatus(resultType || undefined);
  if (status) out.status = status;
  if (ip) out.callerIpAddress = ip;
  return out;
}

/** REST `eventtypes/management/values` events, one per line (`az monitor activity-log list | jq -c '.[]'`). */
function restShape(line: Line, operationName: string): LeanFields | null {
  const time = value(line, '"eventTimestamp":"');
  if (!time) return null;
  // httpRequest written as JSON text hides the client address from a plain search.
  if (line.text.indexOf('"httpRequest":"') >= 0) return null;
  // resourceId falls back to authorization.scope in activity.ts: parse when it is absent.
  const resourceId = value(line, '"resourceId":"');
  if (!resourceId) return null;
  const status = value(line, '"status":{"value":"');
  const ip = value(line, '"clientIpAddress":"');
  if (status === null || ip === null) return null;
  // A status object written another way (localizedValue first) would be missed here: parse it.
  if (status === undefined && line.text.indexOf('"status":') >= 0) return null;
  const p = principalFields(line);
  if (!p) return null;
  const out: LeanFields = { time, operation: operationName.toLowerCase(), resourceId, ...p };
  const s = normStatus(status || undefined);
  if (s) out.status = s;
  if (ip) out.callerIpAddress = ip;
  return out;
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
  const text = bytes.toString("latin1", start, end);
  if (!isOneRecord(text)) return undefined;
  const line: Line = { text, bytes, at: start };
  const exp = value(line, '"operationName":"');
  if (exp === null) return undefined;
  if (exp !== undefined) {
    if (!exp || parseOps.has(exp.toLowerCase())) return undefined;
    return exportShape(line, exp) ?? undefined;
  }
  const rest = value(line, '"operationName":{"value":"');
  if (!rest || parseOps.has(rest.toLowerCase())) return undefined;
  return restShape(line, rest) ?? undefined;
}
