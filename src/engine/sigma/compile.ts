/**
 * Compiles a rule's detection section into one predicate over a record. Done once per rule;
 * evaluation then does no parsing, only field lookups (cached per record by RecordView) and the
 * prebuilt tests.
 */
import type { AuditRecord, RecordKind } from "../../model/records.js";
import { type CondNode, matchNames, parseCondition } from "./condition.js";
import { type CompiledField, compileField, type FieldContext, leaves } from "./fields.js";
import { compileValues, type LeafTest, MAX_MATCH_CHARS, ModifierError } from "./modifiers.js";

/** Per-record cache of resolved fields, shared by every rule that looks at the record. */
export class RecordView {
  private cache = new Map<CompiledField, unknown[]>();
  private text?: string[];
  private memos?: Map<string, unknown>;

  /** Per-record values that every matching rule needs (group keys, evidence): computed once. */
  memo<T>(key: string, make: () => T): T {
    this.memos ??= new Map();
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const v = make();
    this.memos.set(key, v);
    return v;
  }
  constructor(
    readonly record: AuditRecord,
    private readonly kind: RecordKind,
    private readonly ctx: FieldContext = {},
  ) {}

  field(name: string): unknown[] {
    return this.resolved(compileField(this.kind, name));
  }

  /** A field compiled ahead (rules compile theirs once); cached per record by identity. */
  resolved(f: CompiledField): unknown[] {
    let v = this.cache.get(f);
    if (v === undefined) {
      v = leaves(f.get(this.record, this.ctx));
      this.cache.set(f, v);
    }
    return v;
  }

  /** Every string leaf of the record (less raw/origin), for keyword selections. */
  allText(): string[] {
    if (!this.text) {
      const out: string[] = [];
      const visit = (v: unknown, depth: number): void => {
        if (depth > 12) return;
        if (typeof v === "string") out.push(v.length > MAX_MATCH_CHARS ? v.slice(0, MAX_MATCH_CHARS) : v);
        else if (Array.isArray(v)) for (const x of v) visit(x, depth + 1);
        else if (v && typeof v === "object") {
          for (const [k, x] of Object.entries(v)) if (k !== "raw" && k !== "origin") visit(x, depth + 1);
        }
      };
      visit(this.record, 0);
      this.text = out;
    }
    return this.text;
  }
}

export type Predicate = (view: RecordView) => boolean;

export class DetectionError extends Error {
  constructor(
    message: string,
    /** Path in the YAML (e.g. ["detection","selection","CommandLine|foo"]) for a line number. */
    readonly path: (string | number)[],
  ) {
    super(message);
  }
}

type FieldCond =
  | { type: "field"; field: CompiledField; spec: ReturnType<typeof compileValues> }
  | { type: "keyword"; pred: Predicate };

/** What an indexed engine can learn from a detection: operation names it requires. */
export interface CompiledDetection {
  predicate: Predicate;
  /** Lower-cased operation names one of which must equal the record's, or undefined = any. */
  operations?: Set<string>;
  /** Field names the rule reads, for documentation and lint. */
  fields: Set<string>;
}

const OPERATION_FIELDS = new Set(["operationname", "operationnamevalue"]);

export function compileDetection(detection: Record<string, unknown>, kind: RecordKind): CompiledDetection {
  const names = Object.keys(detection).filter((k) => k !== "condition" && k !== "timeframe");
  const fields = new Set<string>();
  const selections = new Map<string, { pred: Predicate; ops?: Set<string> }>();
  for (const name of names) {
    selections.set(name, compileSelection(detection[name], kind, ["detection", name], fields));
  }
  const rawCond = detection.condition;
  const conds = Array.isArray(rawCond) ? rawCond : [rawCond];
  if (conds.length === 0 || conds.some((c) => typeof c !== "string" || c.trim() === "")) {
    throw new DetectionError("detection needs a condition (a string)", ["detection", "condition"]);
  }
  const trees: CondNode[] = [];
  for (const c of conds as string[]) {
    try {
      trees.push(parseCondition(c, names));
    } catch (e) {
      throw new DetectionError((e as Error).message, ["detection", "condition"]);
    }
  }
  const preds = trees.map((t) => buildCondition(t, selections, names));
  const predicate: Predicate = preds.length === 1 ? (preds[0] as Predicate) : (v) => preds.some((p) => p(v));
  const opSets = trees.map((t) => requiredOps(t, selections, names));
  const operations = opSets.every((s) => s !== undefined)
    ? new Set(opSets.flatMap((s) => [...(s as Set<string>)]))
    : undefined;
  return { predicate, operations, fields };
}

function buildCondition(node: CondNode, sel: Map<string, { pred: Predicate }>, names: string[]): Predicate {
  switch (node.t) {
    case "id":
      return (sel.get(node.name) as { pred: Predicate }).pred;
    case "not": {
      const p = buildCondition(node.item, sel, names);
      return (v) => !p(v);
    }
    case "and": {
      const ps = node.items.map((n) => buildCondition(n, sel, names));
      return (v) => ps.every((p) => p(v));
    }
    case "or": {
      const ps = node.items.map((n) => buildCondition(n, sel, names));
      return (v) => ps.some((p) => p(v));
    }
    case "of": {
      const ps = matchNames(node.pattern, names).map((n) => (sel.get(n) as { pred: Predicate }).pred);
      return node.quantifier === "all" ? (v) => ps.every((p) => p(v)) : (v) => ps.some((p) => p(v));
    }
  }
}

/** Operation names the condition cannot match without, when that can be known statically. */
function requiredOps(
  node: CondNode,
  sel: Map<string, { ops?: Set<string> }>,
  names: string[],
): Set<string> | undefined {
  switch (node.t) {
    case "id":
      return sel.get(node.name)?.ops;
    case "not":
      return undefined;
    case "and": {
      // Any conjunct that pins the operation pins the whole; take the smallest.
      let best: Set<string> | undefined;
      for (const n of node.items) {
        const s = requiredOps(n, sel, names);
        if (s && (!best || s.size < best.size)) best = s;
      }
      return best;
    }
    case "or":
    case "of": {
      const items =
        node.t === "or"
          ? node.items.map((n) => requiredOps(n, sel, names))
          : matchNames(node.pattern, names).map((n) => sel.get(n)?.ops);
      if (node.t === "of" && node.quantifier === "all") {
        let best: Set<string> | undefined;
        for (const s of items) if (s && (!best || s.size < best.size)) best = s;
        return best;
      }
      if (items.some((s) => s === undefined)) return undefined;
      return new Set(items.flatMap((s) => [...(s as Set<string>)]));
    }
  }
}

function compileSelection(
  value: unknown,
  kind: RecordKind,
  path: (string | number)[],
  fields: Set<string>,
): { pred: Predicate; ops?: Set<string> } {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new DetectionError("an empty list matches nothing; remove it", path);
    if (value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))) {
      // List of maps: OR.
      const parts = value.map((m, i) => compileMap(m as Record<string, unknown>, kind, [...path, i], fields));
      const preds = parts.map((p) => p.pred);
      const ops = parts.every((p) => p.ops) ? new Set(parts.flatMap((p) => [...(p.ops as Set<string>)])) : undefined;
      return { pred: (v) => preds.some((p) => p(v)), ops };
    }
    if (value.some((v) => v !== null && typeof v === "object")) {
      throw new DetectionError("a selection list must hold either maps or plain keywords, not both", path);
    }
    return compileKeywords(value, [], path);
  }
  if (value !== null && typeof value === "object")
    return compileMap(value as Record<string, unknown>, kind, path, fields);
  if (typeof value === "string" || typeof value === "number") return compileKeywords([value], [], path);
  throw new DetectionError("a selection must be a map, a list of maps or a list of keywords", path);
}

function compileKeywords(values: unknown[], mods: string[], path: (string | number)[]): { pred: Predicate } {
  let spec: ReturnType<typeof compileValues>;
  try {
    spec = compileValues(values, mods.length ? mods : ["contains"]);
  } catch (e) {
    throw new DetectionError((e as Error).message, path);
  }
  const none = () => [];
  return {
    pred: (v) => {
      const text = v.allText();
      const hit = (t: LeafTest) => text.some((s) => t(s, none));
      return spec.all ? spec.tests.every(hit) : spec.tests.some(hit);
    },
  };
}

function compileMap(
  map: Record<string, unknown>,
  kind: RecordKind,
  path: (string | number)[],
  fields: Set<string>,
): { pred: Predicate; ops?: Set<string> } {
  const conds: FieldCond[] = [];
  let ops: Set<string> | undefined;
  for (const [key, raw] of Object.entries(map)) {
    const [field, ...mods] = key.split("|");
    const p = [...path, key];
    if (!field) {
      // `|contains: [...]` with no field name: keyword search with modifiers.
      const kw = compileKeywords(Array.isArray(raw) ? raw : [raw], mods, p);
      conds.push({ type: "keyword", pred: kw.pred });
      continue;
    }
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length === 0) throw new DetectionError(`field '${field}' has an empty value list`, p);
    let spec: ReturnType<typeof compileValues>;
    try {
      spec = compileValues(
        values,
        mods.map((m) => m.toLowerCase()),
      );
    } catch (e) {
      const msg = e instanceof ModifierError ? e.message : String(e);
      throw new DetectionError(`field '${field}': ${msg}`, p);
    }
    fields.add(field);
    conds.push({ type: "field", field: compileField(kind, field), spec });
    if (
      kind === "activity" &&
      OPERATION_FIELDS.has(field.toLowerCase()) &&
      mods.length === 0 &&
      values.every((x) => typeof x === "string" && !/[*?]/.test(x))
    ) {
      ops = new Set(values.map((x) => (x as string).toLowerCase()));
    }
  }
  const pred: Predicate = (view) => {
    for (const c of conds) {
      if (c.type === "keyword") {
        if (!c.pred(view)) return false;
        continue;
      }
      const vals = view.resolved(c.field);
      if (c.spec.exists !== undefined) {
        const present = vals.some((x) => x !== null && x !== undefined && x !== "");
        if (present !== c.spec.exists) return false;
        continue;
      }
      const other = (f: string) => view.field(f);
      const leafList = vals.length === 0 ? [undefined] : vals;
      const hit = (t: LeafTest) => leafList.some((leaf) => t(leaf, other));
      if (!(c.spec.all ? c.spec.tests.every(hit) : c.spec.tests.some(hit))) return false;
    }
    return true;
  };
  return { pred, ops };
}
