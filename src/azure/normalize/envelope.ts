/**
 * Envelopes around records, unwrapped wherever they nest, so that each record is classified on
 * its own (and located by its own index):
 * - an array (`az … list`, a one-line document, an array of Event Hub batches, as a
 *   batch-triggered consumer receives them);
 * - `records` (diagnostic settings to Storage or Event Hub), `value` (an ARM list page) holding an
 *   array, in any case;
 * - `body` holding the records (an Event Hub message as a consumer stores it: the batch is the
 *   message body), as an object, an array or JSON text;
 * - the Azure REST API specs' example files, `{"parameters": …, "responses": {"200": {"body": …}}}`
 *   (e.g. Microsoft.Insights/stable/2015-04-01/examples/GetActivityLogsFiltered.json): the body
 *   of the success response;
 * - JSON text where a record should be (a JSON Lines line that is one JSON string).
 */
import { isObj, type Json } from "./util.js";

/** Deeper than any envelope seen; bounds work on hostile input. */
const MAX_DEPTH = 8;

/** Parses JSON text of an object or array; undefined for anything else. */
export function jsonText(v: unknown): unknown {
  if (typeof v !== "string" || v.length < 2) return undefined;
  const c = v.trimStart()[0];
  if (c !== "{" && c !== "[") return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Envelope member names, lower-cased; a name is compared only when its length and first letter fit. */
const NAMES = ["records", "value", "responses", "parameters", "body"] as const;
type Name = (typeof NAMES)[number];

/**
 * The envelope members of an object, found in one pass over its keys: most objects are records
 * with a score of keys, and only a key of an envelope name's length and first letter is
 * lower-cased.
 */
function envelopeMembers(o: Json): { found: Partial<Record<Name, unknown>>; keys: number } {
  const found: Partial<Record<Name, unknown>> = {};
  let keys = 0;
  for (const k in o) {
    keys++;
    const c = k.charCodeAt(0) | 0x20;
    for (const n of NAMES) {
      if (k.length !== n.length || c !== n.charCodeAt(0) || n in found) continue;
      if (k === n || k.toLowerCase() === n) found[n] = o[k];
    }
  }
  return { found, keys };
}

/** What an envelope object holds, or undefined when it is no envelope (a record). */
function inner(o: Json): unknown {
  const { found, keys } = envelopeMembers(o);
  for (const name of ["records", "value"] as const) {
    const v = found[name];
    if (Array.isArray(v)) return v;
  }
  // A spec example: the success response's body.
  const responses = found.responses;
  if (isObj(responses) && found.parameters !== undefined) {
    for (const code of ["200", "201", "202"]) {
      const r = responses[code];
      if (isObj(r) && r.body !== undefined) return r.body;
    }
  }
  // An Event Hub message kept with its metadata: few members, the records in `body`.
  if (keys <= 8 && found.body !== undefined) {
    const body = found.body;
    if (Array.isArray(body) || isObj(body)) return body;
    const parsed = jsonText(body);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

/** The records in `value`, envelopes removed. */
export function expandEnvelopes(value: unknown): unknown[] {
  const out: unknown[] = [];
  walk(value, 0, out);
  return out;
}

function walk(v: unknown, depth: number, out: unknown[]): void {
  if (depth > MAX_DEPTH) {
    out.push(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) walk(x, depth + 1, out);
    return;
  }
  if (isObj(v)) {
    const i = inner(v);
    if (i === undefined) out.push(v);
    else walk(i, depth + 1, out);
    return;
  }
  const parsed = jsonText(v);
  if (parsed !== undefined) walk(parsed, depth + 1, out);
  else out.push(v);
}
