/**
 * KQL literals. Every value from outside (operation names, rule strings, times) reaches query text
 * only through these functions, never concatenated raw. Shared by the workspace collector's
 * push-down queries and the KQL backend.
 */

/** A KQL string literal: double-quoted, backslash and quote escaped; control characters refused. */
export function kqlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    // C0/C1 controls, DEL, line and paragraph separators: no operation name has them, and a
    // literal must never carry one into the query text.
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
      throw new KqlValueError(
        `refusing to put a control character (U+${c.toString(16).padStart(4, "0")}) in a KQL literal`,
      );
    }
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else out += ch;
  }
  return `${out}"`;
}

export class KqlValueError extends Error {}
