/**
 * `rules lint`: what a rule pack needs beyond loading — unique ids, required metadata, ATT&CK
 * ids that exist in v18.1 and are not revoked or deprecated, vector ids from the catalogue,
 * and a tests file beside every rule.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PACKAGE_ROOT } from "../paths.js";
import type { EngineRule, LoadedRules, ResolvedCorrelation } from "./loader.js";
import { testsFileFor } from "./tester.js";

export interface LintProblem {
  file: string;
  line?: number;
  problem: string;
}

export interface Technique {
  id: string;
  name: string;
  tactics: string[];
  platforms: string[];
  revoked: boolean;
  deprecated: boolean;
}

let techniques: Map<string, Technique> | undefined;
export function attackTechniques(): Map<string, Technique> {
  techniques ??= new Map(
    (JSON.parse(readFileSync(join(PACKAGE_ROOT, "data", "attack-techniques.json"), "utf8")) as Technique[]).map((t) => [
      t.id,
      t,
    ]),
  );
  return techniques;
}

export interface Vector {
  id: number;
  name: string;
  technique: string;
  atrm?: string[];
  evidence: ("activity" | "config")[];
}

export function loadVectors(file: string): Vector[] {
  const doc = parse(readFileSync(file, "utf8")) as { vectors?: Vector[] };
  return doc?.vectors ?? [];
}

/** Ids that must never appear: they are easy to confuse with Execution techniques. */
const CONFUSABLE: Record<string, string> = {
  "T1078.001": "Valid Accounts: Default Accounts, not Cloud API (T1059.009)",
  "T1204.004": "Malicious Copy and Paste, not Malicious Image (T1204.003)",
};

export function lintRules(loaded: LoadedRules, vectorsFile?: string): LintProblem[] {
  const problems: LintProblem[] = loaded.errors.map((e) => ({ file: e.file, line: e.line, problem: e.problem }));
  const known = attackTechniques();
  const vectors =
    vectorsFile && existsSync(vectorsFile) ? new Set(loadVectors(vectorsFile).map((v) => v.id)) : undefined;
  const all: (EngineRule | ResolvedCorrelation)[] = [...loaded.rules.filter((r) => !r.private), ...loaded.correlations];
  for (const r of all) {
    const at = (problem: string) => problems.push({ file: r.file, line: r.line, problem: `${r.title}: ${problem}` });
    if (!r.idGiven) at("needs an 'id' (a UUID)");
    if (!r.levelGiven) at("needs a 'level'");
    if (!r.description) at("needs a 'description'");
    if (r.falsepositives.length === 0) at("needs 'falsepositives'");
    if (r.techniques.length === 0) at("needs an ATT&CK technique tag such as attack.t1651");
    if (!r.tags.some((t) => /^attack\.[a-z-_]+$/i.test(t) && !/^attack\.t\d/i.test(t)))
      at("needs an ATT&CK tactic tag such as attack.execution");
    for (const id of r.techniques) {
      const t = known.get(id);
      if (CONFUSABLE[id]) at(`${id} is ${CONFUSABLE[id]}`);
      else if (!t) at(`${id} is not an ATT&CK v18.1 enterprise technique`);
      else if (t.revoked || t.deprecated)
        at(`${id} (${t.name}) is ${t.revoked ? "revoked" : "deprecated"} in ATT&CK v18.1`);
    }
    if (vectors) for (const v of r.ext.vectors) if (!vectors.has(v)) at(`vector ${v} is not in ${vectorsFile}`);
    if (!existsSync(testsFileFor(r.file))) at(`has no tests file (${testsFileFor(r.file)})`);
  }
  return problems;
}
