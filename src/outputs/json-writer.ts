/**
 * Writes a JSON document whose large arrays are streamed: the text is byte for byte what
 * `JSON.stringify(value, null, 2)` would give, but each streamed item is stringified and written
 * on its own, so a report with many findings is never one string.
 */

import type { OutputSink } from "./sink.js";

/** An array whose items are produced (and stringified) one at a time while writing. */
export class StreamedArray<T = unknown> {
  constructor(readonly items: Iterable<T>) {}
}

const INDENT = "  ";

/** `JSON.stringify` with two-space indentation, as if nested `depth` levels deep. */
function stringifyAt(value: unknown, depth: number): string {
  // Undefined and functions stringify to nothing; inside an array JSON.stringify writes null.
  const text = JSON.stringify(value, null, 2) ?? "null";
  // JSON strings never hold a raw newline, so every newline is layout and takes the indent.
  return depth === 0 ? text : text.replaceAll("\n", `\n${INDENT.repeat(depth)}`);
}

function containsStream(value: unknown): boolean {
  if (value instanceof StreamedArray) return true;
  if (value === null || typeof value !== "object") return false;
  return Object.values(value).some(containsStream);
}

/** Plain JSON-able entries, as JSON.stringify keeps them (undefined, functions and symbols dropped). */
function entries(value: object): [string, unknown][] {
  return Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== "function" && typeof v !== "symbol");
}

async function writeValue(out: OutputSink, value: unknown, depth: number): Promise<void> {
  const inner = INDENT.repeat(depth + 1);
  const close = `\n${INDENT.repeat(depth)}`;
  if (value instanceof StreamedArray) {
    let first = true;
    for (const item of value.items) {
      await out.write(`${first ? "[" : ","}\n${inner}${stringifyAt(item, depth + 1)}`);
      first = false;
    }
    await out.write(first ? "[]" : `${close}]`);
    return;
  }
  if (!containsStream(value) || value === null || typeof value !== "object") {
    await out.write(stringifyAt(value, depth));
    return;
  }
  const isArray = Array.isArray(value);
  const parts: [string | undefined, unknown][] = isArray
    ? value.map((v): [undefined, unknown] => [undefined, v])
    : entries(value);
  await out.write(isArray ? "[" : "{");
  let first = true;
  for (const [key, v] of parts) {
    await out.write(`${first ? "" : ","}\n${inner}${key === undefined ? "" : `${JSON.stringify(key)}: `}`);
    await writeValue(out, v, depth + 1);
    first = false;
  }
  await out.write(first ? (isArray ? "]" : "}") : `${close}${isArray ? "]" : "}"}`);
}

/** Writes `value` as indented JSON plus a final newline. */
export async function writeJson(out: OutputSink, value: unknown): Promise<void> {
  await writeValue(out, value, 0);
  await out.write("\n");
}
