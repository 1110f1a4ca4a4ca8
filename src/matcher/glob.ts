/**
 * Sigma wildcard matching without regular expressions: `*` any run, `?` one character, `\`
 * escapes. Linear in practice (two-pointer backtracking on the last star), so an attacker's
 * long string cannot make a rule value explode.
 */

export interface GlobToken {
  /** Literal text, already lower-cased when the match is case-insensitive. */
  text: string;
  star: boolean;
  any: boolean;
}

/** Parses a Sigma value into literal text and wildcards. Returns undefined if no wildcard. */
export function parseWildcards(value: string): { pattern: string; hasWildcard: boolean; literal: string } {
  // Encode as: literal chars, with \u0000 for * and \u0001 for ? (control chars never appear
  // in rule values we accept; see rule.ts).
  let out = "";
  let literal = "";
  let wild = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === "\\" && i + 1 < value.length) {
      const n = value[i + 1] as string;
      if (n === "*" || n === "?" || n === "\\") {
        out += n;
        literal += n;
        i++;
        continue;
      }
      out += c;
      literal += c;
      continue;
    }
    if (c === "*") {
      out += "\u0000";
      wild = true;
    } else if (c === "?") {
      out += "\u0001";
      wild = true;
    } else {
      out += c;
      literal += c;
    }
  }
  return { pattern: out, hasWildcard: wild, literal };
}

/** Matches `text` against an encoded pattern from parseWildcards. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern.charCodeAt(p);
    if (p < pattern.length && (pc === 1 || (pc !== 0 && pc === text.charCodeAt(t)))) {
      p++;
      t++;
    } else if (p < pattern.length && pc === 0) {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 0) p++;
  return p === pattern.length;
}
