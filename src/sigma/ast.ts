/**
 * The Sigma rule model as data (specification 2.0). Parsing keeps everything a backend needs:
 * detection items with their field, modifier chain and typed values; the condition tree;
 * correlation rules; and extension attributes. The in-process matcher compiles this model to
 * predicates and a query backend renders it as text; neither parses YAML again. Nothing here
 * knows about any product's field names.
 */
import type { CondNode } from "./condition.js";

export interface Wildcard {
  wildcard: "*" | "?";
}

/** A placeholder (`%name%` under the `expand` modifier), replaced by a processing pipeline. */
export interface PlaceholderPart {
  placeholder: string;
}

export type StringPart = string | Wildcard | PlaceholderPart;

/** A string value: literal runs and wildcard tokens (escapes already resolved). */
export interface SigmaString {
  type: "string";
  parts: StringPart[];
  /** Case-sensitive comparison (`cased`, or an encoding transform that makes bytes of it). */
  cased: boolean;
}

export interface SigmaNumber {
  type: "number";
  value: number;
}

export interface SigmaBoolean {
  type: "boolean";
  value: boolean;
}

/** `field: null`: the field is absent or empty. */
export interface SigmaNull {
  type: "null";
}

export interface SigmaRegex {
  type: "regex";
  pattern: string;
  flags: { i: boolean; m: boolean; s: boolean };
}

export interface SigmaCidr {
  type: "cidr";
  network: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

export interface SigmaCompare {
  type: "compare";
  op: "gt" | "gte" | "lt" | "lte";
  value: number;
}

/** `fieldref`: equal to another field of the same record. */
export interface SigmaFieldRef {
  type: "fieldref";
  field: string;
  cased: boolean;
}

/** `exists: true|false`. */
export interface SigmaExists {
  type: "exists";
  value: boolean;
}

/** One rule value that a transform (base64offset, windash, …) expanded into alternatives. */
export interface SigmaExpansion {
  type: "expansion";
  /** The modifier that produced it. */
  from: string;
  values: SigmaString[];
}

export type SigmaValue =
  | SigmaString
  | SigmaNumber
  | SigmaBoolean
  | SigmaNull
  | SigmaRegex
  | SigmaCidr
  | SigmaCompare
  | SigmaFieldRef
  | SigmaExists
  | SigmaExpansion;

/** One `field|modifier…: values` entry, or a keyword list (no field). */
export interface DetectionItem {
  /** Field name as written (a pipeline may map it); undefined for keywords. */
  field?: string;
  /** Modifiers as written, lower-cased, in order. */
  modifiers: string[];
  values: SigmaValue[];
  /** `all` makes the value list AND instead of OR. */
  linking: "or" | "and";
  /** Where it was written, for errors. */
  path: (string | number)[];
}

/** A named selection: OR over alternatives, each an AND of items (a map, or a list of maps). */
export interface Selection {
  name: string;
  alternatives: DetectionItem[][];
}

export interface Detection {
  selections: Record<string, Selection>;
  /** One tree per condition string (several conditions are ORed). */
  conditions: CondNode[];
}

export interface Logsource {
  product?: string;
  service?: string;
  category?: string;
}

export interface FirstSeen {
  /** Fields whose combined value must be new (absent from the baseline). */
  fields: string[];
  /** Length of the learning period at the start of the window, in ms. */
  learningMs: number;
}

/**
 * Attributes outside the Sigma specification that this project defines (docs/rules.md). Each
 * has a small parser registered in extensions.ts; other tools ignore them.
 */
export interface RuleExtensions {
  /** Threat-matrix ids (ATRM, docs/rules.md). */
  atrm: string[];
  /** Execution vectors from detections/vectors.yml. */
  vectors: number[];
  /** Baseline-relative novelty. */
  firstseen?: FirstSeen;
  /** Correlations: which matches of the later rules may be steps of a chain. */
  steps?: ChainSteps;
}

/**
 * `steps: {keep: notable, new-for: [...]}` on a temporal_ordered correlation: after the first
 * rule's match, a match of a later rule is a step only if its operation raised a finding of its
 * own or its `new-for` values were first seen at or after the chain's first step (`first: new`
 * judges the first step too). Routine work
 * of the same identity (what it did before the chain began) is left out, and a chain whose later
 * rules are left with nothing is not reported.
 */
export interface ChainSteps {
  keep: "notable";
  /** The fields whose combined value must be new for the step (first-seen, scan-wide). */
  newFor: string[];
  /**
   * `first: new`: the chain may also start only at a first rule's match whose `new-for` value
   * first appeared after this learning period at the start of the window (as a `firstseen`
   * rule judges), for chains whose first step alone says too little.
   */
  first?: { learningMs: number };
}

export interface RuleMeta {
  file: string;
  line: number;
  id: string;
  /** Sigma `name`: how correlation rules may refer to this rule. */
  name?: string;
  title: string;
  status?: string;
  description?: string;
  references: string[];
  author?: string;
  date?: string;
  tags: string[];
  techniques: string[];
  tactics: string[];
  level: "informational" | "low" | "medium" | "high" | "critical";
  /** False when `level` was absent (lint reports it for the built-in pack). */
  levelGiven: boolean;
  /** False when `id` was absent and a stable one was derived from file and title. */
  idGiven: boolean;
  falsepositives: string[];
  ext: RuleExtensions;
}

export interface DetectionRule extends RuleMeta {
  type: "detection";
  logsource: Logsource;
  /** Lines of top-level sections, so a pipeline's error can point at the right one. */
  lines: { logsource?: number; detection?: number };
  detection: Detection;
  /** Defined only to feed a correlation in the same file: produces no findings of its own. */
  private?: boolean;
}

export type CorrelationType = "event_count" | "value_count" | "temporal" | "temporal_ordered";

export interface CorrelationRule extends RuleMeta {
  type: "correlation";
  correlation: {
    type: CorrelationType;
    /** Referenced rules by id or name, as written. */
    rules: string[];
    groupBy: string[];
    timespanMs: number;
    /** e.g. { gte: 3 } (several criteria are ANDed); temporal types default to "all rules". */
    condition: Partial<Record<"gt" | "gte" | "lt" | "lte" | "eq", number>>;
    /** value_count: the field whose distinct values are counted. */
    field?: string;
    /** alias → rule name or id → field. */
    aliases: Record<string, Record<string, string>>;
    generate: boolean;
  };
}

/** A correlation whose references are resolved to rule ids. */
export interface ResolvedCorrelation extends CorrelationRule {
  /** Ids of the referenced rules or correlations, in the order written. */
  refs: string[];
}
