/**
 * Sigma wildcard matching without regular expressions: `*` any run, `?` one character, `\`
 * escapes. Linear in practice (two-pointer backtracking on the last star), so an attacker's
 * long string cannot make a rule value explode.
 */

/**
 * Matches `text` against an encoded pattern: literal characters, \u0000 for `*` and \u0001 for
 * `?` (compile.ts builds it from a SigmaString's parts).
 */
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

/**
 * Encodes a user-written wildcard string (`*`, `?`, `\` escaping the next character) as a
 * `globMatch` pattern, character by character: a pattern read from a file never becomes a
 * regular expression.
 */
export function encodeGlob(text: string): string {
  let pattern = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\" && i + 1 < text.length) pattern += text[++i];
    else if (c === "*") pattern += "\u0000";
    else if (c === "?") pattern += "\u0001";
    else pattern += c;
  }
  return pattern;
}
