/**
 * A checker for ATT&CK Navigator layer files, format 4.5, written from the format's definition
 * (mitre-attack/attack-navigator layers/spec/v4.5/layerformat.md; the project has no JSON Schema
 * because the Navigator publishes none). It is strict: unknown properties are errors too, so a
 * misspelt field does not pass. Platform names are checked against the shipped ATT&CK data
 * (v18.1), whose platform names (IaaS, Containers, Identity Provider, …) replaced the older list
 * the 4.5 document still prints.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

type Json = Record<string, unknown>;

const DATA = join(import.meta.dirname, "..", "data", "attack-techniques.json");
const techniques = JSON.parse(readFileSync(DATA, "utf8")) as { id: string; platforms: string[] }[];
export const ATTACK_PLATFORMS = new Set(techniques.flatMap((t) => t.platforms));

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function version(v: string): number[] {
  return v.split(".").map((p) => Number.parseInt(p, 10) || 0);
}

function atLeast(v: string, min: string): boolean {
  const a = version(v);
  const b = version(min);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

function only(o: Json, allowed: string[], where: string, errors: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errors.push(`${where}: unknown property "${k}"`);
}

function metadataList(v: unknown, where: string, errors: string[]): void {
  if (!Array.isArray(v)) return void errors.push(`${where}: not an array`);
  for (const [i, m] of v.entries()) {
    if (!isObj(m)) {
      errors.push(`${where}[${i}]: not an object`);
      continue;
    }
    if ("divider" in m) {
      only(m, ["divider"], `${where}[${i}]`, errors);
      if (!isBool(m.divider)) errors.push(`${where}[${i}].divider: not a boolean`);
      continue;
    }
    only(m, ["name", "value"], `${where}[${i}]`, errors);
    if (!isStr(m.name) || !isStr(m.value)) errors.push(`${where}[${i}]: name and value must be strings`);
  }
}

function linkList(v: unknown, where: string, errors: string[]): void {
  if (!Array.isArray(v)) return void errors.push(`${where}: not an array`);
  for (const [i, l] of v.entries()) {
    if (!isObj(l)) {
      errors.push(`${where}[${i}]: not an object`);
      continue;
    }
    if ("divider" in l) {
      if (!isBool(l.divider)) errors.push(`${where}[${i}].divider: not a boolean`);
      continue;
    }
    only(l, ["label", "url"], `${where}[${i}]`, errors);
    if (!isStr(l.label)) errors.push(`${where}[${i}].label: not a string`);
    if (!isStr(l.url) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(l.url)) errors.push(`${where}[${i}].url: needs a protocol`);
  }
}

const DOMAINS = ["enterprise-attack", "mobile-attack", "ics-attack"];
const TOP = [
  "versions",
  "name",
  "description",
  "domain",
  "customDataURL",
  "filters",
  "sorting",
  "layout",
  "hideDisabled",
  "techniques",
  "gradient",
  "legendItems",
  "showTacticRowBackground",
  "tacticRowBackground",
  "selectTechniquesAcrossTactics",
  "selectSubtechniquesWithParent",
  "selectVisibleTechniques",
  "metadata",
  "links",
];
const TECHNIQUE = [
  "techniqueID",
  "tactic",
  "comment",
  "enabled",
  "score",
  "color",
  "metadata",
  "links",
  "showSubtechniques",
];
const LAYOUT = [
  "layout",
  "showID",
  "showName",
  "showAggregateScores",
  "countUnscored",
  "aggregateFunction",
  "expandedSubtechniques",
];

/** Problems with one layer, by the 4.5 definition; empty when it conforms. */
export function layerErrors(layer: unknown): string[] {
  const errors: string[] = [];
  if (!isObj(layer)) return ["layer: not an object"];
  only(layer, TOP, "layer", errors);
  if (!isStr(layer.name)) errors.push("name: required string");
  if (!isStr(layer.domain) || !DOMAINS.includes(layer.domain))
    errors.push(`domain: required, one of ${DOMAINS.join(", ")}`);
  if (layer.description !== undefined && !isStr(layer.description)) errors.push("description: not a string");
  if (layer.versions !== undefined) {
    const v = layer.versions;
    if (!isObj(v)) errors.push("versions: not an object");
    else {
      only(v, ["attack", "navigator", "layer"], "versions", errors);
      if (v.attack !== undefined && !isStr(v.attack)) errors.push("versions.attack: not a string");
      if (!isStr(v.navigator) || !atLeast(v.navigator, "4.9.0"))
        errors.push('versions.navigator: required, at least "4.9.0"');
      if (v.layer !== "4.5") errors.push('versions.layer: must be "4.5"');
    }
  }
  if (layer.filters !== undefined) {
    const f = layer.filters;
    if (!isObj(f)) errors.push("filters: not an object");
    else {
      only(f, ["platforms"], "filters", errors);
      if (f.platforms !== undefined) {
        if (!Array.isArray(f.platforms)) errors.push("filters.platforms: not an array");
        else
          for (const p of f.platforms)
            if (!isStr(p) || !ATTACK_PLATFORMS.has(p))
              errors.push(`filters.platforms: unknown platform ${JSON.stringify(p)}`);
      }
    }
  }
  if (layer.sorting !== undefined && ![0, 1, 2, 3].includes(layer.sorting as number)) errors.push("sorting: 0 to 3");
  if (layer.layout !== undefined) {
    const l = layer.layout;
    if (!isObj(l)) errors.push("layout: not an object");
    else {
      only(l, LAYOUT, "layout", errors);
      if (l.layout !== undefined && !["side", "flat", "mini"].includes(l.layout as string))
        errors.push("layout.layout");
      for (const k of ["showID", "showName", "showAggregateScores", "countUnscored"])
        if (l[k] !== undefined && !isBool(l[k])) errors.push(`layout.${k}: not a boolean`);
      if (
        l.aggregateFunction !== undefined &&
        !["average", "min", "max", "sum"].includes(l.aggregateFunction as string)
      )
        errors.push("layout.aggregateFunction");
      if (
        l.expandedSubtechniques !== undefined &&
        !["none", "all", "annotated"].includes(l.expandedSubtechniques as string)
      )
        errors.push("layout.expandedSubtechniques");
    }
  }
  for (const k of [
    "hideDisabled",
    "showTacticRowBackground",
    "selectTechniquesAcrossTactics",
    "selectSubtechniquesWithParent",
    "selectVisibleTechniques",
  ])
    if (layer[k] !== undefined && !isBool(layer[k])) errors.push(`${k}: not a boolean`);
  if (layer.tacticRowBackground !== undefined && !isStr(layer.tacticRowBackground))
    errors.push("tacticRowBackground: not a string");
  let min = 0;
  let max = 100;
  if (layer.gradient !== undefined) {
    const g = layer.gradient;
    if (!isObj(g)) errors.push("gradient: not an object");
    else {
      only(g, ["colors", "minValue", "maxValue"], "gradient", errors);
      if (
        !Array.isArray(g.colors) ||
        g.colors.length < 2 ||
        !g.colors.every((c) => isStr(c) && /^#[0-9a-f]{6}([0-9a-f]{2})?$/i.test(c))
      )
        errors.push("gradient.colors: at least two hex colours");
      if (!isNum(g.minValue) || !isNum(g.maxValue) || g.maxValue <= g.minValue)
        errors.push("gradient: minValue < maxValue required");
      else {
        min = g.minValue;
        max = g.maxValue;
      }
    }
  }
  if (layer.legendItems !== undefined) {
    if (!Array.isArray(layer.legendItems)) errors.push("legendItems: not an array");
    else
      layer.legendItems.forEach((li, i) => {
        if (!isObj(li) || !isStr(li.label) || !isStr(li.color))
          errors.push(`legendItems[${i}]: label and color required`);
        else only(li, ["label", "color"], `legendItems[${i}]`, errors);
      });
  }
  if (layer.metadata !== undefined) metadataList(layer.metadata, "metadata", errors);
  if (layer.links !== undefined) linkList(layer.links, "links", errors);
  if (layer.techniques !== undefined) {
    if (!Array.isArray(layer.techniques)) errors.push("techniques: not an array");
    else
      for (const [i, t] of layer.techniques.entries()) {
        const w = `techniques[${i}]`;
        if (!isObj(t)) {
          errors.push(`${w}: not an object`);
          continue;
        }
        only(t, TECHNIQUE, w, errors);
        if (!isStr(t.techniqueID) || !/^T\d{4}(\.\d{3})?$/.test(t.techniqueID))
          errors.push(`${w}.techniqueID: T#### or T####.###`);
        if (t.tactic !== undefined && (!isStr(t.tactic) || !/^[a-z]+(-[a-z]+)*$/.test(t.tactic)))
          errors.push(`${w}.tactic`);
        if (t.comment !== undefined && !isStr(t.comment)) errors.push(`${w}.comment: not a string`);
        if (t.color !== undefined && !isStr(t.color)) errors.push(`${w}.color: not a string`);
        for (const k of ["enabled", "showSubtechniques"])
          if (t[k] !== undefined && !isBool(t[k])) errors.push(`${w}.${k}: not a boolean`);
        if (t.score !== undefined && (!isNum(t.score) || t.score < min || t.score > max))
          errors.push(`${w}.score: a number from ${min} to ${max}`);
        if (t.metadata !== undefined) metadataList(t.metadata, `${w}.metadata`, errors);
        if (t.links !== undefined) linkList(t.links, `${w}.links`, errors);
      }
  }
  return errors;
}
