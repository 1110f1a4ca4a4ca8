/**
 * A path as the user typed it, made usable whatever its spelling: `./x`, `x`, `x/` and `~/x`
 * name one place. Shells expand `~` only at the start of an unquoted word, so `--input=~/x`, a
 * quoted `"~/x"` and a config value reach us unexpanded. Relative paths stay as typed (messages,
 * coverage and suppression entries name them so); comparisons between paths go through
 * `isUnder`, which resolves both sides — a prefix test on the text is what once let
 * `rules lint ./my-rules` match no file and pass.
 */
import { homedir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";

export function userPath(p: string): string {
  let s = p;
  if (s === "~") s = homedir();
  else if (s.startsWith("~/")) s = join(homedir(), s.slice(2));
  // Otherwise kept as typed (messages and suppression entries name files as the user wrote them);
  // a trailing separator goes, so a directory has one name whether written `x` or `x/`.
  return s.length > 1 && s.endsWith("/") ? s.replace(/\/+$/, "") || "/" : s;
}

/** Whether `file` is `dir` or inside it, however either was written. */
export function isUnder(file: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(file));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
