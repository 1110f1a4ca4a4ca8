/**
 * Embedded rule tests, RuleTester style: `<rule>.tests.yml` beside `<rule>.yml` lists `match`
 * and `nomatch` cases, each a list of records in any input shape the scanner reads. A case
 * runs through the same classify → derive → engine path as a scan, with only its rule loaded.
 * A match case passes with at least one finding (or exactly `findings: N`), a nomatch case
 * with none.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { classify, SiteJoiner } from "../azure/normalize/index.js";
import type { EngineLimits } from "../engine/state.js";
import type { Finding } from "../model/finding.js";
import type { AuditRecord } from "../model/records.js";
import { RecordPipeline } from "../scan/pipeline.js";
import type { EngineRule, LoadedRules, ResolvedCorrelation } from "./loader.js";

export interface CaseResult {
  rule: string;
  file: string;
  kind: "match" | "nomatch";
  name: string;
  passed: boolean;
  findings: number;
  problem?: string;
}

interface Case {
  name?: unknown;
  records?: unknown;
  findings?: unknown;
}

export function testsFileFor(ruleFile: string): string {
  return ruleFile.replace(/\.ya?ml$/i, ".tests.yml");
}

/** What a case runs: one detection rule, or a correlation with every rule it needs. */
export interface Testable {
  subject: EngineRule | ResolvedCorrelation;
  rules: EngineRule[];
  correlations: ResolvedCorrelation[];
}

/** The rules and correlations a correlation needs, followed through chains. */
export function testableFor(subject: EngineRule | ResolvedCorrelation, loaded: LoadedRules): Testable {
  if (!("correlation" in subject)) return { subject, rules: [subject], correlations: [] };
  const rules = new Map<string, EngineRule>();
  const correlations = new Map<string, ResolvedCorrelation>();
  const visit = (c: ResolvedCorrelation) => {
    if (correlations.has(c.id)) return;
    correlations.set(c.id, c);
    for (const ref of c.refs) {
      const r = loaded.rules.find((x) => x.id === ref);
      if (r) rules.set(r.id, r);
      const inner = loaded.correlations.find((x) => x.id === ref);
      if (inner) visit(inner);
    }
  };
  visit(subject);
  return { subject, rules: [...rules.values()], correlations: [...correlations.values()] };
}

/** Records in any input shape the scanner reads → normalised records (sites joined to their settings). */
export function normaliseCase(values: unknown[]): { records: AuditRecord[]; errors: string[] } {
  const sites = new SiteJoiner();
  const errors: string[] = [];
  const records: AuditRecord[] = [];
  values.forEach((value, i) => {
    const c = classify(value, { location: "test", index: i + 1 });
    if ("error" in c) errors.push(`record ${i + 1} ${c.error}`);
    else if ("skipped" in c) errors.push(`record ${i + 1} ${c.reason}`);
    else if ("pending" in c) sites.add(c.pending, c.key, c.value, { shape: c.shape, location: "test", index: i + 1 });
    else records.push(...c.records);
  });
  records.push(...sites.drain());
  return { records, errors };
}

export function runCase(
  t: Testable,
  values: unknown[],
  limits?: Partial<EngineLimits>,
): { findings: Finding[]; errors: string[]; pipeline: RecordPipeline } {
  const pipeline = new RecordPipeline({
    rules: t.rules,
    correlations: t.correlations,
    scanTime: "2000-01-01T00:00:00.000Z",
    limits,
  });
  const { records, errors } = normaliseCase(values);
  for (const r of records) pipeline.push(r);
  // Only the subject's own findings count (a correlation's base rules may alert too).
  return { findings: pipeline.finish().filter((f) => f.ruleId === t.subject.id), errors, pipeline };
}

export async function testRule(t: Testable): Promise<CaseResult[]> {
  const rule = t.subject;
  const file = testsFileFor(rule.file);
  const base = { rule: rule.id, file };
  if (!existsSync(file)) {
    return [
      { ...base, kind: "match", name: "(tests file)", passed: false, findings: 0, problem: `no tests file ${file}` },
    ];
  }
  let doc: { match?: Case[]; nomatch?: Case[] };
  try {
    doc = parse(await readFile(file, "utf8")) as typeof doc;
  } catch (e) {
    return [
      {
        ...base,
        kind: "match",
        name: "(tests file)",
        passed: false,
        findings: 0,
        problem: `not valid YAML: ${(e as Error).message.split("\n")[0]}`,
      },
    ];
  }
  const out: CaseResult[] = [];
  for (const kind of ["match", "nomatch"] as const) {
    const cases = doc?.[kind];
    if (!Array.isArray(cases) || cases.length === 0) {
      out.push({
        ...base,
        kind,
        name: `(no ${kind} cases)`,
        passed: false,
        findings: 0,
        problem: `needs at least one '${kind}' case`,
      });
      continue;
    }
    cases.forEach((c, i) => {
      const name = typeof c?.name === "string" ? c.name : `${kind} case ${i + 1}`;
      if (!Array.isArray(c?.records) || c.records.length === 0) {
        out.push({ ...base, kind, name, passed: false, findings: 0, problem: "case has no records" });
        return;
      }
      const { findings, errors } = runCase(t, c.records);
      const n = findings.length;
      let problem: string | undefined;
      if (errors.length > 0) problem = `unreadable test record: ${errors[0]}`;
      else if (kind === "match" && typeof c.findings === "number" && n !== c.findings)
        problem = `expected ${c.findings} finding(s), got ${n}`;
      else if (kind === "match" && n === 0) problem = "expected a finding, got none";
      else if (kind === "nomatch" && n > 0) problem = `expected no finding, got ${n}`;
      out.push({ ...base, kind, name, passed: problem === undefined, findings: n, ...(problem ? { problem } : {}) });
    });
  }
  return out;
}
