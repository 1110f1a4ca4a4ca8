/**
 * Chain findings: a correlation result as one finding, one step per operation instance, linked
 * to the single-rule findings raised on its steps so a reader sees one attack and every
 * detection that saw a piece of it.
 */
import { canonicalOperation, canonicalResourceId } from "../../azure/catalog/canonical.js";
import type { Attribution } from "../../azure/enrich/attribution.js";
import { type ChainEvidence, type EvidenceRecord, type Finding, severityRank } from "../../model/finding.js";
import type { AuditRecord } from "../../model/records.js";
import type { EngineRule } from "../../rules/loader.js";
import type { ResolvedCorrelation } from "../../sigma/ast.js";
import { type CorrEvent, type CorrResult, MAX_STEPS } from "../correlate.js";
import { fingerprint } from "../fingerprint.js";
import { evidenceOf, MAX_EVIDENCE_RECORDS } from "../grouping.js";
import { locate, writeEvidence } from "./locate.js";

export function chainFinding(
  res: CorrResult,
  rules: ReadonlyMap<string, EngineRule | ResolvedCorrelation>,
  a: Attribution,
): Finding {
  const c = res.correlation;
  const flat: CorrEvent[] = [];
  const flatten = (evs: CorrEvent[]) => {
    for (const e of evs) {
      if (e.steps) flatten(e.steps);
      else flat.push(e);
    }
  };
  flatten(res.steps);
  // One step per operation instance: Started/Accepted/Succeeded records of one call collapse.
  const byInstance = new Map<string, { ev: CorrEvent; statuses: Set<string>; records: AuditRecord[] }>();
  for (const e of flat) {
    const r = e.record;
    const key =
      r.kind === "activity"
        ? `${e.ref}\u001f${(r.correlationId ?? r.id).toLowerCase()}\u001f${(r.resourceId ?? "").toLowerCase()}`
        : `${e.ref}\u001f${r.kind}\u001f${r.id.toLowerCase()}`;
    let inst = byInstance.get(key);
    if (!inst) {
      inst = { ev: e, statuses: new Set(), records: [] };
      byInstance.set(key, inst);
    }
    if (r.kind === "activity" && r.status) inst.statuses.add(r.status);
    inst.records.push(r);
  }
  const steps = [...byInstance.values()].slice(0, MAX_STEPS).map((inst) => ({
    ev: inst.ev,
    where: locate(inst.ev.record, a),
    rule: rules.get(inst.ev.ref),
    statuses: [...inst.statuses],
    records: inst.records,
  }));
  const techniques = [...c.techniques];
  const tactics = [...c.tactics];
  for (const s of steps) {
    for (const t of s.rule?.techniques ?? []) if (!techniques.includes(t)) techniques.push(t);
    for (const t of s.rule?.tactics ?? []) if (!tactics.includes(t)) tactics.push(t);
  }
  if (tactics.length === 0) tactics.push("execution");
  const last = steps[steps.length - 1]?.where;
  const first = steps[0]?.where;
  // The principal the chain is about: the last actor with an id.
  const principal = [...steps].reverse().find((s) => s.where.principal.id)?.where.principal ?? {};
  const records: EvidenceRecord[] = [];
  for (const s of steps) {
    for (const rec of s.records) {
      const e = evidenceOf(rec);
      if (!records.some((x) => x.kind === e.kind && x.id === e.id)) records.push(e);
    }
    if (s.where.writer && s.ev.record.kind !== "activity") {
      const w = writeEvidence(s.where.writer);
      if (!records.some((x) => x.id === w.id)) records.push(w);
    }
  }
  const evidence: ChainEvidence = {
    kind: "chain",
    records: records.slice(0, MAX_EVIDENCE_RECORDS),
    correlation: { type: c.correlation.type, timespanMs: c.correlation.timespanMs, group: res.group },
    steps: steps.map((s) => ({
      rule: s.rule?.title ?? s.ev.ref,
      ruleId: s.ev.ref,
      ...(s.ev.time !== undefined ? { time: s.ev.time } : {}),
      ...(s.where.operation !== undefined ? { operation: canonicalOperation(s.where.operation) } : {}),
      resourceId: canonicalResourceId(s.where.resourceId),
      ...((s.where.principal.id ?? s.where.principal.name) !== undefined
        ? { principal: s.where.principal.id ?? s.where.principal.name }
        : {}),
      ...(s.statuses.length > 0 ? { statuses: s.statuses } : {}),
      records: s.records.map((r) => evidenceOf(r).id),
    })),
  };
  if (byInstance.size > MAX_STEPS) evidence.stepCount = byInstance.size;
  const levels = steps.map((s) => s.rule?.level).filter((l): l is NonNullable<typeof l> => !!l);
  const severity = c.levelGiven ? c.level : (levels.sort((x, y) => severityRank(y) - severityRank(x))[0] ?? c.level);
  // The resource the chain is about: where the last required rule first matched (the first
  // execution after a grant), not whatever the window happened to end with.
  const lastRef = c.refs[c.refs.length - 1];
  const pivot = steps.find((s) => s.ev.ref === lastRef)?.where;
  const resourceId = pivot?.resourceId || last?.resourceId || first?.resourceId || "";
  const finding: Finding = {
    id: fingerprint([
      c.id,
      Object.entries(res.group)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
      res.time,
    ]),
    ruleId: c.id,
    title: c.title,
    severity,
    attack: { tactics, techniques },
    resourceId: canonicalResourceId(resourceId),
    principal,
    time: res.time,
    evidence,
  };
  const sub = steps.map((s) => s.where.subscriptionId).find((x) => x);
  if (sub) finding.subscriptionId = sub;
  if (c.ext.atrm.length > 0) finding.atrm = [...c.ext.atrm];
  return finding;
}

/** Names on each chain step the findings raised on its records, and adds their techniques. */
export function linkChains(chains: Finding[], singles: Finding[]): void {
  const byRecord = new Map<string, Finding[]>();
  for (const f of singles) {
    for (const r of f.evidence.records) {
      const list = byRecord.get(r.id) ?? [];
      list.push(f);
      byRecord.set(r.id, list);
    }
  }
  for (const chain of chains) {
    if (chain.evidence.kind !== "chain") continue;
    for (const step of chain.evidence.steps) {
      const hits = new Set<Finding>();
      for (const id of step.records) for (const f of byRecord.get(id) ?? []) hits.add(f);
      if (hits.size === 0) continue;
      step.findings = [...hits].map((f) => f.id);
      for (const f of hits) {
        for (const t of f.attack.techniques) if (!chain.attack.techniques.includes(t)) chain.attack.techniques.push(t);
        for (const t of f.attack.tactics) if (!chain.attack.tactics.includes(t)) chain.attack.tactics.push(t);
      }
    }
  }
}
