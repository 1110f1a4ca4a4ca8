/**
 * Sigma condition expressions: identifiers (with `*` wildcards), `and`, `or`, `not`,
 * parentheses, `1 of <pattern>`, `all of <pattern>`, `1 of them`, `all of them`.
 * Precedence: not > and > or, as in the Sigma specification.
 */

export type CondNode =
  | { t: "id"; name: string }
  | { t: "and"; items: CondNode[] }
  | { t: "or"; items: CondNode[] }
  | { t: "not"; item: CondNode }
  | { t: "of"; quantifier: "1" | "all"; pattern: string };

export class ConditionError extends Error {}

type Tok = { v: string; kind: "word" | "lp" | "rp" };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(") {
      toks.push({ v: c, kind: "lp" });
      i++;
      continue;
    }
    if (c === ")") {
      toks.push({ v: c, kind: "rp" });
      i++;
      continue;
    }
    let j = i;
    while (j < src.length && !/[\s()]/.test(src[j] as string)) j++;
    toks.push({ v: src.slice(i, j), kind: "word" });
    i = j;
  }
  return toks;
}

export function parseCondition(src: string, known: readonly string[]): CondNode {
  if (src.includes("|")) {
    throw new ConditionError("aggregation expressions after '|' are deprecated in Sigma 2.0; use a correlation rule");
  }
  const toks = tokenize(src);
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const word = (): string | undefined => {
    const t = peek();
    return t?.kind === "word" ? t.v.toLowerCase() : undefined;
  };

  const parseOr = (): CondNode => {
    const items = [parseAnd()];
    while (word() === "or") {
      pos++;
      items.push(parseAnd());
    }
    return items.length === 1 ? (items[0] as CondNode) : { t: "or", items };
  };
  const parseAnd = (): CondNode => {
    const items = [parseNot()];
    while (word() === "and") {
      pos++;
      items.push(parseNot());
    }
    return items.length === 1 ? (items[0] as CondNode) : { t: "and", items };
  };
  const parseNot = (): CondNode => {
    if (word() === "not") {
      pos++;
      return { t: "not", item: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): CondNode => {
    const t = peek();
    if (!t) throw new ConditionError(`condition "${src}" ends where an identifier was expected`);
    if (t.kind === "lp") {
      pos++;
      const inner = parseOr();
      if (peek()?.kind !== "rp") throw new ConditionError(`condition "${src}" has an unclosed '('`);
      pos++;
      return inner;
    }
    if (t.kind === "rp") throw new ConditionError(`condition "${src}" has an unexpected ')'`);
    const w = t.v.toLowerCase();
    if ((w === "1" || w === "all" || w === "any") && toks[pos + 1]?.v.toLowerCase() === "of") {
      const target = toks[pos + 2];
      if (target?.kind !== "word") {
        throw new ConditionError(`condition "${src}": '${t.v} of' needs a name pattern or 'them'`);
      }
      pos += 3;
      const pattern = target.v.toLowerCase() === "them" ? "*" : target.v;
      if (matchNames(pattern, known).length === 0) {
        throw new ConditionError(`condition "${src}": '${target.v}' matches no detection identifier`);
      }
      return { t: "of", quantifier: w === "all" ? "all" : "1", pattern };
    }
    if (["and", "or", "not", "of"].includes(w)) {
      throw new ConditionError(`condition "${src}" has '${t.v}' where an identifier was expected`);
    }
    pos++;
    if (!known.includes(t.v)) {
      throw new ConditionError(`condition "${src}" names '${t.v}', which is not defined under detection`);
    }
    return { t: "id", name: t.v };
  };

  const node = parseOr();
  if (pos < toks.length) {
    throw new ConditionError(`condition "${src}" has unexpected '${toks[pos]?.v}'`);
  }
  return node;
}

/** Identifiers matching a `selection*` style pattern; `_`-prefixed names are excluded from `them`. */
export function matchNames(pattern: string, known: readonly string[]): string[] {
  if (pattern === "*") return known.filter((k) => !k.startsWith("_"));
  if (!pattern.includes("*")) return known.filter((k) => k === pattern);
  const prefix = pattern.slice(0, pattern.indexOf("*"));
  const suffix = pattern.slice(pattern.lastIndexOf("*") + 1);
  return known.filter((k) => k.startsWith(prefix) && k.endsWith(suffix) && k.length >= prefix.length + suffix.length);
}
