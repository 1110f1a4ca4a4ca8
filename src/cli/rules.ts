/** `rules list | test | lint | coverage | export`: the rule pack and user rule directories, without scanning. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { analyticsPack } from "../azure/sentinel/analytics.js";
import { renderArm, renderYaml } from "../azure/sentinel/render.js";
import { BUILTIN_RULES_DIR, PACKAGE_ROOT } from "../paths.js";
import { renderCoverage } from "../rules/coverage.js";
import { lintRules, loadVectors } from "../rules/lint.js";
import { type LoadedRules, loadRules } from "../rules/loader.js";
import { testableFor, testRule } from "../rules/tester.js";
import { summarize } from "../scan/run.js";
import { UsageError } from "../util/errors.js";
import { sanitizeForTerminal } from "../util/text.js";
import { isUnder } from "../util/user-path.js";
import type { Io } from "./main.js";

async function load(dirs: string[] | undefined): Promise<{ loaded: LoadedRules; dirs: string[] }> {
  const d = dirs && dirs.length > 0 ? dirs : [BUILTIN_RULES_DIR];
  return { loaded: await loadRules(d), dirs: d };
}

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export async function rulesList(dirs: string[] | undefined, format: string, io: Io): Promise<number> {
  const { loaded } = await load(dirs);
  const all = [...loaded.rules.filter((r) => !r.private), ...loaded.correlations];
  for (const e of loaded.errors) io.stderr(`azure-exec-audit: rule skipped: ${e.message}\n`);
  const failed = (): number => {
    if (loaded.errors.length === 0) return 0;
    io.stderr(`azure-exec-audit: ${loaded.errors.length} rule file(s) could not be loaded (above)\n`);
    return 1;
  };
  if (format === "json") {
    io.stdout(json(all.map((r) => ({ ...summarize(r), kind: "correlation" in r ? "correlation" : "detection" }))));
    return failed();
  }
  io.stdout(`${pad("LEVEL", 13)} ${pad("TECHNIQUES", 28)} ${pad("TITLE", 80)} ID\n`);
  const order = ["critical", "high", "medium", "low", "informational"];
  all.sort((a, b) => order.indexOf(a.level) - order.indexOf(b.level) || a.title.localeCompare(b.title));
  for (const r of all) {
    io.stdout(
      `${pad(r.level, 13)} ${pad(r.techniques.join(","), 28)} ${pad(sanitizeForTerminal(r.title), 80)} ${r.id}\n`,
    );
  }
  io.stdout(
    `${all.length} rules (${loaded.correlations.length} correlations)${loaded.errors.length ? `, ${loaded.errors.length} skipped` : ""}\n`,
  );
  return failed();
}

export async function rulesTest(dirs: string[] | undefined, format: string, io: Io): Promise<number> {
  const { loaded } = await load(dirs);
  let passed = 0;
  const failures: { file: string; line?: number; kind?: string; name?: string; problem: string }[] = [];
  for (const e of loaded.errors)
    failures.push({ file: e.file, ...(e.line ? { line: e.line } : {}), problem: e.problem });
  for (const subject of [...loaded.rules.filter((r) => !r.private), ...loaded.correlations]) {
    for (const c of await testRule(testableFor(subject, loaded))) {
      if (c.passed) passed++;
      else failures.push({ file: subject.file, kind: c.kind, name: c.name, problem: c.problem ?? "failed" });
    }
  }
  if (format === "json") io.stdout(json({ passed, failed: failures.length, failures }));
  else {
    for (const f of failures)
      io.stdout(
        f.kind === undefined
          ? `FAIL ${f.file}${f.line ? `:${f.line}` : ""}: ${f.problem}\n`
          : `FAIL ${f.file}: ${f.kind} "${sanitizeForTerminal(f.name ?? "")}": ${f.problem}\n`,
      );
    io.stdout(`${passed} passed, ${failures.length} failed\n`);
  }
  if (failures.length === 0) return 0;
  io.stderr(`azure-exec-audit: ${failures.length} rule test(s) failed, ${passed} passed\n`);
  return 1;
}

export async function rulesLint(dirs: string[] | undefined, format: string, io: Io): Promise<number> {
  const { loaded, dirs: used } = await load(dirs);
  const problems = used.flatMap((d) => lintRules(filterTo(loaded, d), join(d, "vectors.yml")));
  // A user rule with a built-in id replaces that rule in a scan: say so, so it is never a surprise.
  const notes: { file: string; line: number; note: string }[] = [];
  if (!used.every((d) => isUnder(d, BUILTIN_RULES_DIR))) {
    const builtin = await loadRules([BUILTIN_RULES_DIR]);
    const byId = new Map([...builtin.rules, ...builtin.correlations].map((r) => [r.id, r]));
    for (const r of [...loaded.rules, ...loaded.correlations]) {
      const b = byId.get(r.id);
      if (b && !isUnder(r.file, BUILTIN_RULES_DIR))
        notes.push({
          file: r.file,
          line: r.line,
          note: `id ${r.id} is the built-in rule "${b.title}" (${b.file}): in a scan this rule replaces it; give it its own id to add a rule instead`,
        });
    }
  }
  const n = loaded.rules.filter((r) => !r.private).length + loaded.correlations.length;
  if (format === "json") io.stdout(json({ rules: n, problems, notes }));
  else {
    for (const p of problems) io.stdout(`${p.file}${p.line ? `:${p.line}` : ""}: ${p.problem}\n`);
    for (const p of notes) io.stdout(`${p.file}:${p.line}: note: ${p.note}\n`);
    io.stdout(problems.length === 0 ? `${n} rules, no problems\n` : `${problems.length} problem(s) in ${n} rules\n`);
  }
  if (problems.length === 0) return 0;
  io.stderr(`azure-exec-audit: rules lint found ${problems.length} problem(s) in ${n} rules\n`);
  return 1;
}

export async function rulesCoverage(io: Io): Promise<number> {
  const { loaded } = await load(undefined);
  const vectors = loadVectors(join(BUILTIN_RULES_DIR, "vectors.yml"));
  io.stdout(renderCoverage(vectors, loaded, PACKAGE_ROOT));
  return 0;
}

/**
 * Lint per directory so each pack is checked against its own vectors.yml. Paths are compared
 * resolved: `./my-rules` and `my-rules` are one directory (a prefix test on the text once
 * matched no file for `./my-rules`, and lint passed a broken pack).
 */
function filterTo(loaded: LoadedRules, dir: string): LoadedRules {
  const inDir = (f: string) => isUnder(f, dir);
  return {
    rules: loaded.rules.filter((r) => inDir(r.file)),
    correlations: loaded.correlations.filter((r) => inDir(r.file)),
    errors: loaded.errors.filter((e) => inDir(e.file)),
  };
}

export const EXPORT_TARGETS = ["sentinel"] as const;
export const EXPORT_FORMATS = ["yaml", "arm"] as const;

/**
 * `rules export --target sentinel`: every Activity Log rule and correlation KQL can express, as
 * Sentinel analytics rules (Azure-Sentinel YAML or an ARM template); the rest are named on stderr
 * with why (and kept in the output: a YAML comment, the template's metadata).
 */
export async function rulesExport(
  dirs: string[] | undefined,
  flags: { target: string; format: string; output?: string },
  io: Io,
): Promise<number> {
  if (!(EXPORT_TARGETS as readonly string[]).includes(flags.target)) {
    throw new UsageError(`unknown --target '${flags.target}' (use ${EXPORT_TARGETS.join(", ")})`);
  }
  const { loaded } = await load(dirs);
  for (const e of loaded.errors) io.stderr(`azure-exec-audit: rule skipped: ${e.message}\n`);
  const pack = analyticsPack(loaded.rules, loaded.correlations);
  const text = flags.format === "arm" ? renderArm(pack) : renderYaml(pack);
  if (flags.output) await writeFile(flags.output, text);
  else io.stdout(text);
  for (const r of pack.refused) {
    io.stderr(`not exported: ${sanitizeForTerminal(r.title)} (${r.ruleId}): ${sanitizeForTerminal(r.reason)}\n`);
  }
  io.stderr(`${pack.rules.length} analytics rules exported, ${pack.refused.length} rules not expressible in KQL\n`);
  return loaded.errors.length > 0 ? 1 : 0;
}
