/**
 * Finds and loads rule files. A broken rule is collected as a RuleError (file, line, problem)
 * and the others still load; duplicate ids are errors too, since findings key on them.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../util/errors.js";
import { loadRuleFile, RuleError, type SigmaRule } from "./sigma/rule.js";

export const RULE_FILE = /\.ya?ml$/i;
/** Embedded tests live beside their rule: `<name>.tests.yml`. */
export const TESTS_FILE = /\.tests\.ya?ml$/i;
/** The vector catalogue at the top of the pack; not a rule. */
export const VECTORS_FILE = "vectors.yml";

export async function listRuleFiles(dir: string): Promise<string[]> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    throw new UsageError(`rules directory does not exist: ${dir}`);
  }
  if (st.isFile()) return [dir];
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && RULE_FILE.test(e.name) && !TESTS_FILE.test(e.name) && e.name !== VECTORS_FILE) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

export interface LoadedRules {
  rules: SigmaRule[];
  errors: RuleError[];
}

export async function loadRules(dirs: readonly string[]): Promise<LoadedRules> {
  const rules: SigmaRule[] = [];
  const errors: RuleError[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    for (const file of await listRuleFiles(dir)) {
      try {
        for (const rule of await loadRuleFile(file)) {
          const other = seen.get(rule.id);
          if (other) {
            errors.push(new RuleError(file, rule.line, `id ${rule.id} is already used by ${other}`));
            continue;
          }
          seen.set(rule.id, file);
          rules.push(rule);
        }
      } catch (e) {
        if (e instanceof RuleError) errors.push(e);
        else errors.push(new RuleError(file, undefined, (e as Error).message));
      }
    }
  }
  return { rules, errors };
}
