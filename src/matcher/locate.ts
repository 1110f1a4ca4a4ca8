/**
 * Where in a long text a rule matched, so a report that cuts the text for display keeps that
 * part visible. The rule's own values are searched for again (a literal part of a string value,
 * a regex run once over the bounded text); a value of the rule is never made from the text.
 */
import type { DetectionItem, SigmaString, SigmaValue } from "../sigma/ast.js";
import type { ProcessedRule } from "../sigma/pipeline.js";
import { MAX_REGEX_INPUT } from "./compile.js";

export type Span = readonly [start: number, end: number];

/** The longest literal run of a string value (what its test needed to find). */
function literalOf(s: SigmaString): string | undefined {
  let best: string | undefined;
  for (const p of s.parts) if (typeof p === "string" && p.length > (best?.length ?? 0)) best = p;
  return best;
}

function spanOf(v: SigmaValue, text: string, lower: () => string): Span | undefined {
  switch (v.type) {
    case "string": {
      const lit = literalOf(v);
      if (!lit) return undefined;
      const at = v.cased ? text.indexOf(lit) : lower().indexOf(lit.toLowerCase());
      return at < 0 ? undefined : [at, at + lit.length];
    }
    case "expansion":
      return earliest(v.values.map((s) => spanOf(s, text, lower)));
    case "regex": {
      const re = new RegExp(v.pattern, `${v.flags.i ? "i" : ""}${v.flags.m ? "m" : ""}${v.flags.s ? "s" : ""}`);
      const m = re.exec(text.length > MAX_REGEX_INPUT ? text.slice(0, MAX_REGEX_INPUT) : text);
      return m ? [m.index, m.index + m[0].length] : undefined;
    }
    default:
      return undefined;
  }
}

function earliest(spans: (Span | undefined)[]): Span | undefined {
  let best: Span | undefined;
  for (const s of spans) if (s && (!best || s[0] < best[0])) best = s;
  return best;
}

/**
 * The earliest place in `text` one of the rule's values for the fields `reads` accepts is found;
 * undefined when none is (a value matched on another field, say).
 */
export function matchSpan(rule: ProcessedRule, reads: (field: string) => boolean, text: string): Span | undefined {
  let lowered: string | undefined;
  const lower = () => {
    lowered ??= text.toLowerCase();
    return lowered;
  };
  const items: DetectionItem[] = [];
  for (const sel of Object.values(rule.detection.selections))
    for (const alt of sel.alternatives)
      for (const it of alt) if (it.field !== undefined && reads(it.field)) items.push(it);
  return earliest(items.flatMap((it) => it.values.map((v) => spanOf(v, text, lower))));
}

export interface Excerpt {
  text: string;
  /** Where the excerpt starts in the original, when it was cut. */
  offset: number;
  truncated: boolean;
}

/**
 * At most `max` UTF-16 units of `text`, holding `span` (centred in the window when it fits; its
 * start when it is longer than the window), or the head when there is no span. Never splits a
 * surrogate pair.
 */
export function excerpt(text: string, max: number, span?: Span): Excerpt {
  if (text.length <= max) return { text, offset: 0, truncated: false };
  let start = 0;
  if (span) {
    const [s, e] = span;
    start = e - s >= max ? s : Math.max(0, s - Math.floor((max - (e - s)) / 2));
    start = Math.min(start, text.length - max);
  }
  let end = start + max;
  const isHigh = (i: number) => {
    const c = text.charCodeAt(i);
    return c >= 0xd800 && c <= 0xdbff;
  };
  // A window that would start on a low surrogate moves one on; one that would end after a high one, one back.
  if (start > 0 && isHigh(start - 1)) start += 1;
  if (end < text.length && isHigh(end - 1)) end -= 1;
  return { text: text.slice(start, end), offset: start, truncated: true };
}
