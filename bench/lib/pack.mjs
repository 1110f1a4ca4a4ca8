// The rule pack as the benchmark sees it: the operation names its Activity Log rules select on
// (derived from detections/, never hard-coded), and copies of the pack under fresh ids.
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseAllDocuments } from "yaml";

export const root = new URL("../..", import.meta.url).pathname;
export const packDir = join(root, "detections");

/** Rule files as the loader picks them: *.yml / *.yaml, not *.tests.yml, not vectors.yml. */
export function ruleFiles(dir = packDir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name) && !/\.tests\.ya?ml$/.test(name) && name !== "vectors.yml") out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The value lists behind `%name%` placeholders (`operationName|expand: "%execution_operations%"`),
 * from the built catalogue in dist/ (the bench runs after `npm run build`).
 */
export async function placeholderLists() {
  for (const rel of ["dist/azure/catalog/execution-operations.js"]) {
    try {
      const m = await import(join(root, rel));
      if (m.PLACEHOLDER_LISTS) return m.PLACEHOLDER_LISTS;
    } catch {}
  }
  return {};
}

/**
 * Every `operationName` value under a detection selection (map or list of maps), across all
 * documents of every rule file (correlation files carry their rules as extra documents), with
 * `|expand` placeholders filled from `lists`. Returns the names as written (first spelling
 * wins) and what could not be turned into exact names (other modifiers, unknown placeholders),
 * so the bench says so if the pack starts using them.
 */
export function packOperations(lists = {}, dir = packDir) {
  const byLower = new Map();
  const modified = [];
  const visit = (node, file) => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, file);
      return;
    }
    if (!node || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      const [field, ...mods] = key.split("|");
      if (field !== "operationName") continue;
      const expand = mods.length === 1 && mods[0] === "expand";
      if (mods.length && !expand) {
        modified.push(`${relative(root, file)}: ${key}`);
        continue;
      }
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v !== "string") continue;
        const ph = expand ? /^%(\w+)%$/.exec(v) : null;
        if (ph && !lists[ph[1]]) {
          modified.push(`${relative(root, file)}: ${key} ${v} (placeholder not found in dist/)`);
          continue;
        }
        for (const name of ph ? lists[ph[1]] : [v]) {
          if (!byLower.has(name.toLowerCase())) byLower.set(name.toLowerCase(), name);
        }
      }
    }
  };
  for (const file of ruleFiles(dir)) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const rule = doc.toJS();
      const detection = rule?.detection;
      if (!detection || typeof detection !== "object") continue;
      for (const [name, selection] of Object.entries(detection)) {
        if (name !== "condition") visit(selection, file);
      }
    }
  }
  const names = [...byLower.values()].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  return { names, lower: names.map((n) => n.toLowerCase()), modified };
}

/**
 * Copies the pack's rule files into dst (same tree) with fresh ids: every `id:` replaced by a new
 * UUID, and an `id:` added to documents without one (a correlation's rules), whose derived id
 * (file name + rule name) would otherwise collide with the original's.
 */
export function copyPack(dst, dir = packDir) {
  let files = 0;
  for (const file of ruleFiles(dir)) {
    const docs = readFileSync(file, "utf8").split(/^---[ \t]*$/m);
    const text = docs
      .map((d, i) => {
        if (!d.trim()) return d;
        if (/^id: /m.test(d)) return d.replace(/^id: .*$/gm, () => `id: ${randomUUID()}`);
        return i === 0 ? `id: ${randomUUID()}\n${d}` : `\nid: ${randomUUID()}${d}`;
      })
      .join("---");
    const out = join(dst, relative(dir, file));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
    files++;
  }
  return files;
}
