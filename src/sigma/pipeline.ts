/**
 * Processing pipelines, as pySigma has them: an ordered list of transformations between the
 * rule model and a backend. The same rule goes through one pipeline for the in-process matcher
 * (logsource → record kind, field aliases) and another for a query backend (Sigma fields →
 * table columns). Placeholders (`%name%` under `expand`) are filled here from named value lists.
 * Transformations never mutate the parsed rule: each returns a new one.
 */
import type { DetectionItem, DetectionRule, SigmaString, SigmaValue, StringPart } from "./ast.js";
import { RuleError } from "./errors.js";

/** A rule after a pipeline: `target` is what the backend evaluates it against (a record kind, a table). */
export interface ProcessedRule extends DetectionRule {
  target: string;
  /** Names of the transformations applied, in order. */
  applied: string[];
}

export interface Transformation {
  name: string;
  apply(rule: ProcessedRule): ProcessedRule;
}

export class ProcessingPipeline {
  constructor(
    readonly name: string,
    readonly transformations: readonly Transformation[],
  ) {}

  /** Throws RuleError (file, line, problem) when a transformation cannot apply. */
  apply(rule: DetectionRule): ProcessedRule {
    let r: ProcessedRule = { ...rule, target: "", applied: [] };
    for (const t of this.transformations) r = { ...t.apply(r), applied: [...r.applied, t.name] };
    if (r.target === "") throw new RuleError(rule.file, rule.line, `pipeline ${this.name} gave the rule no target`);
    return r;
  }
}

function mapItems(rule: ProcessedRule, f: (item: DetectionItem) => DetectionItem): ProcessedRule {
  const selections: ProcessedRule["detection"]["selections"] = {};
  for (const [name, sel] of Object.entries(rule.detection.selections)) {
    selections[name] = { name, alternatives: sel.alternatives.map((alt) => alt.map(f)) };
  }
  return { ...rule, detection: { ...rule.detection, selections } };
}

/** Sets the rule's target from its logsource; a logsource the backend cannot read is a rule error. */
export function logsourceTarget(
  resolve: (ls: DetectionRule["logsource"]) => string | undefined,
  explain: (ls: DetectionRule["logsource"]) => string,
): Transformation {
  return {
    name: "logsource-target",
    apply(rule) {
      const target = resolve(rule.logsource);
      if (!target) throw new RuleError(rule.file, rule.lines.logsource ?? rule.line, explain(rule.logsource));
      return { ...rule, target };
    },
  };
}

/**
 * Renames fields: `map(field, target)` returns the new name (or the same). Applies to detection
 * items, field references and first-seen fields, so every backend sees one vocabulary.
 */
export function fieldMapping(name: string, map: (field: string, target: string) => string): Transformation {
  return {
    name,
    apply(rule) {
      const mapped = mapItems(rule, (it) => {
        const values = it.values.map(
          (v): SigmaValue => (v.type === "fieldref" ? { ...v, field: map(v.field, rule.target) } : v),
        );
        return it.field === undefined ? { ...it, values } : { ...it, field: map(it.field, rule.target), values };
      });
      const fs = rule.ext.firstseen;
      if (!fs) return mapped;
      return {
        ...mapped,
        ext: { ...mapped.ext, firstseen: { ...fs, fields: fs.fields.map((f) => map(f, rule.target)) } },
      };
    },
  };
}

function hasPlaceholder(s: SigmaString): boolean {
  return s.parts.some((p) => typeof p === "object" && "placeholder" in p);
}

/** Every combination of placeholder values in one string (usually one placeholder, so a list). */
function expandString(
  s: SigmaString,
  lists: Readonly<Record<string, readonly string[]>>,
  fail: (name: string) => never,
): SigmaString[] {
  let acc: StringPart[][] = [[]];
  for (const p of s.parts) {
    if (typeof p === "object" && "placeholder" in p) {
      const values = lists[p.placeholder];
      if (!values) fail(p.placeholder);
      acc = acc.flatMap((prefix) => (values as readonly string[]).map((v) => [...prefix, v]));
    } else {
      acc = acc.map((prefix) => [...prefix, p]);
    }
  }
  return acc.map((parts) => ({ ...s, parts: mergeLiterals(parts) }));
}

function mergeLiterals(parts: StringPart[]): StringPart[] {
  const out: StringPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (typeof p === "string" && typeof last === "string") out[out.length - 1] = last + p;
    else if (p !== "") out.push(p);
  }
  return out;
}

/** Fills `%name%` placeholders from named value lists; an unknown name is a rule error. */
export function placeholders(lists: Readonly<Record<string, readonly string[]>>): Transformation {
  return {
    name: "placeholders",
    apply(rule) {
      const fail = (name: string): never => {
        throw new RuleError(
          rule.file,
          rule.line,
          `placeholder '%${name}%' is not defined (known: ${Object.keys(lists)
            .map((k) => `%${k}%`)
            .join(", ")})`,
        );
      };
      return mapItems(rule, (it) => {
        if (!it.values.some((v) => v.type === "string" && hasPlaceholder(v))) return it;
        const values = it.values.flatMap((v) =>
          v.type === "string" && hasPlaceholder(v) ? expandString(v, lists, fail) : [v],
        );
        return { ...it, values };
      });
    },
  };
}
