/**
 * A path as the user typed it, made the same whatever its spelling: `./x`, `x`, `x/` and
 * `~/x` name one place. Shells expand `~` only at the start of an unquoted word, so
 * `--input=~/x`, a quoted `"~/x"` and a config value reach us unexpanded. Relative paths stay
 * relative (messages and coverage name them as written, minus the `./`); comparisons between
 * paths go through `samePlace`/`isUnder`, which resolve both sides.
 */
import { homedir } from "node:os";
import { isAbsolute, join, normalize, relative, resolve } from "node:path";

export function userPath(p: string): string {
  let s = p;
  if (s === "~") s = homedir();
  else if (s.startsWith("~/")) s = join(homedir(), s.slice(2));
  if (s.length === 0) return s;
  const n = normalize(s);
  // normalize keeps one trailing separator; the same directory must not have two names.
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** Whether `file` is `dir` or inside it, however either was written. */
export function isUnder(file: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(file));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
