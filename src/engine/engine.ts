/**
 * The detection engine: rules compiled once, records dispatched by kind and (for the Activity
 * Log) by operation name, so a record only meets the rules that can match it. Matches are
 * grouped into findings as they stream past: one finding per rule and operation instance
 * (Started/Accepted/Succeeded records share a correlationId), per first-seen key, or per
 * configured resource. Grouping state is one entry per finding, never per record.
 */
import { type EvidenceRecord, type Finding, severityRank } from "../model/finding.js";
import type { ActivityEvent, AuditRecord, Principal, RecordKind, RoleAssignment } from "../model/records.js";
import { ActivityIndex, type WriteSummary } from "./activity-index.js";
import {
  type CorrEvent,
  type CorrResult,
  dependencyOrder,
  evaluate as evaluateCorrelation,
  MAX_STEPS,
  makeEvent,
} from "./correlation.js";
import { fingerprint } from "./fingerprint.js";
import { grantsOf, RoleCatalog } from "./grants.js";
import type { ResolvedCorrelation } from "./rules-loader.js";
import { RecordView } from "./sigma/compile.js";
import type { FieldContext } from "./sigma/fields.js";
import type { SigmaRule } from "./sigma/rule.js";

/** Source records listed per finding; the rest are counted. */
export const MAX_EVIDENCE_RECORDS = 50;
/**
 * Matches one correlation may hold. Past it, further matches are dropped and the scan says so in
 * its notes: memory stays bounded however long the stream (a compact stub is ~300 bytes).
 */
export const MAX_CORRELATION_EVENTS = 500_000;
/** Matching payloads listed per finding. */
const MAX_PAYLOADS_PER_FINDING = 5;
/** Distinct operations listed in a first-seen finding. */
const MAX_LISTED_OPERATIONS = 20;

interface Group {
  rule: SigmaRule;
  key: string;
  first: AuditRecord;
  records: EvidenceRecord[];
  count: number;
  firstTime?: string;
  lastTime?: string;
  statuses: Set<string>;
  operations: Set<string>;
  fsKey?: string;
  fsValues?: Record<string, unknown>;
  matched: Record<string, unknown>;
  /** The Failed record of the operation, for its status message. */
  failure?: ActivityEvent;
  /** Payloads of one resource that matched (a script and a command of one image, say). */
  payloads: { kind: string; path: string; content: string; truncated: boolean; vector: string }[];
}

interface Bucket {
  byOperation: Map<string, SigmaRule[]>;
  any: SigmaRule[];
}

/** A payload's evidence is the configuration it was recovered from. */
function payloadSourceKind(resourceType: string): string {
  if (resourceType === "ContainerImage") return "containerImage";
  if (resourceType === "Microsoft.Web/sites") return "functionApp";
  return "resource";
}

function evidenceOf(r: AuditRecord): EvidenceRecord {
  const e: EvidenceRecord =
    r.kind === "payload"
      ? { kind: payloadSourceKind(r.resourceType), id: r.resourceId }
      : r.kind === "grant"
        ? { kind: "roleAssignment", id: r.id }
        : { kind: r.kind, id: r.kind === "activity" ? (r.eventDataId ?? r.id) : r.id };
  e.location = r.origin.location;
  if (r.origin.index !== undefined) e.index = r.origin.index;
  return e;
}

function writeEvidence(w: WriteSummary): EvidenceRecord {
  const e: EvidenceRecord = { kind: "activity", id: w.eventId, location: w.location };
  if (w.index !== undefined) e.index = w.index;
  return e;
}

/** What a correlation step needs of an Activity Log event: ids, time, operation, actor, resource. */
function compactActivity(e: ActivityEvent): ActivityEvent {
  const c: ActivityEvent = {
    kind: "activity",
    id: e.id,
    time: e.time,
    operationName: e.operationName,
    operation: e.operation,
    principal: e.principal,
    claims: {},
    properties: {},
    origin: e.origin,
    raw: undefined,
  };
  if (e.eventDataId) c.eventDataId = e.eventDataId;
  if (e.correlationId) c.correlationId = e.correlationId;
  if (e.status) c.status = e.status;
  if (e.resourceId) c.resourceId = e.resourceId;
  if (e.subscriptionId) c.subscriptionId = e.subscriptionId;
  if (e.callerIpAddress) c.callerIpAddress = e.callerIpAddress;
  return c;
}

/**
 * A chain names the findings raised on its steps and carries their techniques, so a reader
 * sees one attack and every detection that saw a piece of it.
 */
function linkChains(chains: Finding[], singles: Finding[]): void {
  const byRecord = new Map<string, Finding[]>();
  for (const f of singles) {
    for (const r of f.evidence.records) {
      const list = byRecord.get(r.id) ?? [];
      list.push(f);
      byRecord.set(r.id, list);
    }
  }
  for (const chain of chains) {
    const steps = (chain.evidence.steps ?? []) as { records: string[]; findings?: string[] }[];
    for (const step of steps) {
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

export interface EngineOptions {
  /** Start of the scanned window (for first-seen learning); defaults to the earliest event. */
  windowFrom?: string;
  /** Used as the time of configuration findings nobody can be tied to. */
  scanTime: string;
}

export class Engine {
  private readonly buckets = new Map<RecordKind, Bucket>();
  private readonly groups = new Map<string, Group>();
  /** One first-seen tracker per distinct field tuple: cost grows with tuples, not rules. */
  private readonly trackers = new Map<string, { fields: string[]; first: Map<string, string> }>();
  readonly activity = new ActivityIndex();
  readonly roles = new RoleCatalog();
  /** Role assignments, turned into grants once every role definition has been read. */
  private readonly assignments: RoleAssignment[] = [];
  readonly notes: string[] = [];
  readonly stats = { records: 0, evaluations: 0 };
  /** Referenced rule id → the correlations (and the position in their `rules`) it feeds. */
  private readonly subscribers = new Map<string, { c: ResolvedCorrelation; index: number }[]>();
  /** Correlation id → buffered matches of its referenced rules. */
  private readonly buffers = new Map<string, CorrEvent[]>();
  /**
   * Correlation id → matches of configuration records (images, payloads, resources), kept as the
   * record itself: their group values are resolved when the stream ends, when fields that depend
   * on the whole Activity Log (who imported an image) can be known. They are few.
   */
  /** Correlation id → matches dropped past MAX_CORRELATION_EVENTS. */
  private readonly dropped = new Map<string, number>();
  private readonly pending = new Map<string, { index: number; record: AuditRecord; time?: string }[]>();

  constructor(
    readonly rules: readonly SigmaRule[],
    private readonly options: EngineOptions,
    readonly correlations: readonly ResolvedCorrelation[] = [],
  ) {
    for (const c of correlations) {
      this.buffers.set(c.id, []);
      this.pending.set(c.id, []);
      c.refs.forEach((ref, index) => {
        const list = this.subscribers.get(ref) ?? [];
        list.push({ c, index });
        this.subscribers.set(ref, list);
      });
    }
    for (const rule of rules) {
      let b = this.buckets.get(rule.kind);
      if (!b) {
        b = { byOperation: new Map(), any: [] };
        this.buckets.set(rule.kind, b);
      }
      const ops = rule.detection.operations;
      if (rule.kind === "activity" && ops) {
        for (const op of ops) {
          const list = b.byOperation.get(op) ?? [];
          list.push(rule);
          b.byOperation.set(op, list);
        }
      } else {
        b.any.push(rule);
      }
      if (rule.firstseen) {
        const tupleKey = rule.firstseen.fields.join("\u001f");
        if (!this.trackers.has(tupleKey))
          this.trackers.set(tupleKey, { fields: rule.firstseen.fields, first: new Map() });
      }
    }
  }

  process(r: AuditRecord): void {
    this.stats.records++;
    if (r.kind === "roleDefinition") this.roles.add(r);
    else if (r.kind === "roleAssignment") this.assignments.push(r);
    let view: RecordView | undefined;
    if (r.kind === "activity") {
      this.activity.add(r);
      if (this.trackers.size > 0) {
        view = new RecordView(r, r.kind, this.fieldContext);
        for (const t of this.trackers.values()) {
          const k = this.tupleKey(view, t.fields);
          if (k === undefined) continue;
          const prev = t.first.get(k);
          if (prev === undefined || r.time < prev) t.first.set(k, r.time);
        }
      }
    }
    const b = this.buckets.get(r.kind);
    if (!b) return;
    const byOp = r.kind === "activity" ? b.byOperation.get(r.operation) : undefined;
    if (!byOp && b.any.length === 0) return;
    view ??= new RecordView(r, r.kind, this.fieldContext);
    if (byOp) for (const rule of byOp) this.evaluate(rule, r, view);
    for (const rule of b.any) this.evaluate(rule, r, view);
  }

  private readonly fieldContext = { roles: this.roles };

  private tupleKey(view: RecordView, fields: string[]): string | undefined {
    return view.memo(`tuple\u001f${fields.join("\u001f")}`, () => {
      const parts: string[] = [];
      for (const f of fields) {
        const v = view.field(f)[0];
        if (v === undefined || v === null || v === "") return undefined;
        parts.push(String(v).toLowerCase());
      }
      return parts.join("\u001f");
    });
  }

  private evaluate(rule: SigmaRule, r: AuditRecord, view: RecordView): void {
    this.stats.evaluations++;
    if (!rule.detection.predicate(view)) return;
    const subs = this.subscribers.get(rule.id);
    if (subs) {
      for (const { c, index } of subs) {
        if (r.kind === "activity") {
          // Activity Log matches are grouped now and kept as a small stub (no raw record,
          // claims or properties), so a long stream of matches stays cheap to hold.
          const ev = makeEvent(
            c,
            index,
            view.memo("compact", () => compactActivity(r)),
            view,
            r.time,
          );
          if (ev) this.buffers.get(c.id)?.push(ev);
        } else {
          this.pending.get(c.id)?.push({ index, record: r });
        }
      }
    }
    if (rule.private) return;
    let fsKey: string | undefined;
    if (rule.firstseen) {
      fsKey = this.tupleKey(view, rule.firstseen.fields);
      if (fsKey === undefined) return;
    }
    const key = this.groupKey(rule, r, fsKey, view);
    let g = this.groups.get(key);
    if (!g) {
      const matched: Record<string, unknown> = {};
      for (const f of rule.detection.fields) {
        const v = view.field(f);
        if (v.length > 0) matched[f] = v.length === 1 ? v[0] : v.slice(0, 10);
      }
      g = {
        rule,
        key,
        first: r,
        records: [],
        count: 0,
        statuses: new Set(),
        operations: new Set(),
        matched,
        payloads: [],
      };
      if (fsKey !== undefined && rule.firstseen) {
        g.fsKey = fsKey;
        g.fsValues = Object.fromEntries(rule.firstseen.fields.map((f) => [f, view.field(f)[0]]));
      }
      this.groups.set(key, g);
    }
    g.count++;
    const ev = view.memo("evidence", () => evidenceOf(r));
    if (g.records.length < MAX_EVIDENCE_RECORDS && !g.records.some((e) => e.kind === ev.kind && e.id === ev.id)) {
      g.records.push(ev);
    }
    if (r.kind === "payload" && g.payloads.length < MAX_PAYLOADS_PER_FINDING) {
      g.payloads.push({
        kind: r.payloadKind,
        path: r.path,
        content: r.content,
        truncated: r.truncated,
        vector: r.vector,
      });
    }
    if (r.kind === "activity") {
      if (g.firstTime === undefined || r.time < g.firstTime) {
        g.firstTime = r.time;
        g.first = r;
      }
      if (g.lastTime === undefined || r.time > g.lastTime) g.lastTime = r.time;
      if (r.status) g.statuses.add(r.status);
      if (r.status === "Failed") g.failure = r;
      if (g.operations.size < MAX_LISTED_OPERATIONS) g.operations.add(r.operationName);
    }
  }

  private groupKey(rule: SigmaRule, r: AuditRecord, fsKey: string | undefined, view: RecordView): string {
    if (fsKey !== undefined) return `${rule.id}\u001ffs\u001f${fsKey}`;
    if (r.kind === "activity") {
      const instance = view.memo(
        "instance",
        () => `${(r.correlationId ?? r.id).toLowerCase()}\u001f${(r.resourceId ?? "").toLowerCase()}`,
      );
      return `${rule.id}\u001f${instance}`;
    }
    // Payloads group by the resource they came from: one finding per rule and resource.
    const id = r.kind === "payload" ? r.resourceId : r.id;
    return `${rule.id}\u001f${r.kind}\u001f${id.toLowerCase()}`;
  }

  /** Ends the stream: applies first-seen baselines, ties configuration to its authors. */
  finish(): Finding[] {
    // Grants need every role definition, so they are derived when the stream has ended.
    for (const g of grantsOf(this.assignments, this.roles)) this.process(g);
    this.assignments.length = 0;
    const findings: Finding[] = [];
    const windowFrom = this.options.windowFrom ?? this.activity.minTime;
    const windowTo = this.activity.maxTime;
    const warned = new Set<string>();
    for (const g of this.groups.values()) {
      if (g.rule.firstseen && g.fsKey !== undefined) {
        const fs = g.rule.firstseen;
        if (!windowFrom || !windowTo) continue;
        const learningEnd = new Date(Date.parse(windowFrom) + fs.learningMs).toISOString();
        if (windowTo < learningEnd) {
          if (!warned.has(g.rule.id)) {
            warned.add(g.rule.id);
            this.notes.push(
              `rule ${g.rule.id} (${g.rule.title}) needs ${fs.learningMs / 864e5} days of history before it can flag anything; the window starts ${windowFrom} and ends ${windowTo}`,
            );
          }
          continue;
        }
        const tracker = this.trackers.get(fs.fields.join("\u001f"));
        const firstSeen = tracker?.first.get(g.fsKey);
        if (!firstSeen || firstSeen < learningEnd) continue;
        findings.push(
          this.toFinding(g, { baseline: { from: windowFrom, learningEnd }, firstSeen, newValue: g.fsValues }),
        );
        continue;
      }
      findings.push(this.toFinding(g, {}));
    }
    const chains = this.finishCorrelations();
    linkChains(chains, findings);
    findings.push(...chains);
    findings.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
    return findings;
  }

  private finishCorrelations(): Finding[] {
    if (this.correlations.length === 0) return [];
    for (const [id, n] of this.dropped) {
      const c = this.correlations.find((x) => x.id === id);
      this.notes.push(
        `correlation ${id} (${c?.title ?? "?"}) held its limit of ${MAX_CORRELATION_EVENTS} matches and ignored ${n} more; scan a shorter window to see them all`,
      );
    }
    const findings: Finding[] = [];
    const titles = new Map<string, SigmaRule | ResolvedCorrelation>();
    for (const r of this.rules) titles.set(r.id, r);
    for (const c of this.correlations) titles.set(c.id, c);
    // A correlation that only feeds another correlation in its own file is not an alert itself.
    const inner = new Set<string>();
    for (const c of this.correlations) {
      for (const ref of c.refs) {
        const dep = this.correlations.find((x) => x.id === ref);
        if (dep && dep.file === c.file && !dep.correlation.generate) inner.add(dep.id);
      }
    }
    const finalContext: FieldContext = {
      roles: this.roles,
      importedFrom: (img) =>
        this.importFor(img.id)?.imp.source ?? (this.importFor(img.id) ? "registry import" : undefined),
    };
    for (const c of dependencyOrder([...this.correlations])) {
      const buffer = this.buffers.get(c.id) ?? [];
      for (const p of this.pending.get(c.id) ?? []) {
        const ev = makeEvent(c, p.index, p.record, new RecordView(p.record, p.record.kind, finalContext), p.time);
        if (ev) buffer.push(ev);
      }
      this.pending.delete(c.id);
      const events = buffer.filter((ev) => {
        ev.time ??= this.locate(ev.record).time;
        return ev.time !== undefined;
      });
      const results = evaluateCorrelation(c, events);
      for (const res of results) {
        // Feed correlations that chain on this one.
        for (const { c: outer, index } of this.subscribers.get(c.id) ?? []) {
          const group = new Map<string, string[]>();
          let complete = true;
          for (const f of outer.correlation.groupBy) {
            const v = res.group[f];
            if (v === undefined) complete = false;
            else group.set(f, [v]);
          }
          const last = res.steps[res.steps.length - 1] as CorrEvent;
          if (complete)
            this.buffers.get(outer.id)?.push({
              ref: outer.refs[index] as string,
              record: last.record,
              time: res.lastTime,
              group,
              steps: res.steps,
            });
        }
        if (!inner.has(c.id)) findings.push(this.correlationFinding(res, titles));
      }
    }
    return findings;
  }

  /** Time, author and resource of a record, as far as the Activity Log tells. */
  private locate(r: AuditRecord): {
    time?: string;
    principal: Principal;
    resourceId: string;
    subscriptionId?: string;
    operation?: string;
    writer?: WriteSummary;
  } {
    switch (r.kind) {
      case "activity":
        return {
          time: r.time,
          principal: r.principal,
          resourceId: r.resourceId ?? "",
          subscriptionId: r.subscriptionId,
          operation: r.operationName,
        };
      case "containerImage":
      case "payload": {
        const isImage = r.kind === "containerImage" || r.resourceType === "ContainerImage";
        const id = r.kind === "payload" ? r.resourceId : r.id;
        if (isImage) {
          const imp = this.importFor(id);
          const created = r.kind === "containerImage" ? r.createdTime : this.imageTags.get(id)?.created;
          return {
            time: imp?.imp.time ?? created,
            principal: imp?.imp.principal ?? {},
            resourceId: this.registryFor(id) ?? id,
            subscriptionId: imp?.imp.subscriptionId,
            writer: imp?.imp,
          };
        }
        const w = this.activity.writerOf(id);
        return {
          time: w?.time,
          principal: w?.principal ?? {},
          resourceId: id,
          subscriptionId: (r as { subscriptionId?: string }).subscriptionId ?? w?.subscriptionId,
          writer: w,
        };
      }
      case "functionApp":
      case "resource": {
        const w = this.activity.writerOf(r.id);
        return {
          time: w?.time,
          principal: w?.principal ?? {},
          resourceId: r.id,
          subscriptionId: r.subscriptionId ?? w?.subscriptionId,
          writer: w,
        };
      }
      case "roleAssignment":
        return {
          time: r.createdOn,
          principal: r.createdBy ? { id: r.createdBy } : {},
          resourceId: r.scope,
          subscriptionId: /\/subscriptions\/([^/]+)/i.exec(r.scope)?.[1],
        };
      case "roleDefinition":
        return { principal: {}, resourceId: r.id };
      case "grant":
        return {
          time: r.assignment.createdOn,
          principal: r.assignment.createdBy ? { id: r.assignment.createdBy } : {},
          resourceId: r.scope,
          subscriptionId: /\/subscriptions\/([^/]+)/i.exec(r.scope)?.[1],
        };
    }
  }

  private correlationFinding(res: CorrResult, rules: Map<string, SigmaRule | ResolvedCorrelation>): Finding {
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
    const steps = [...byInstance.values()].slice(0, MAX_STEPS).map((inst) => {
      const where = this.locate(inst.ev.record);
      const rule = rules.get(inst.ev.ref);
      return { ev: inst.ev, where, rule, statuses: [...inst.statuses], records: inst.records };
    });
    const techniques = [...c.techniques];
    const tactics = [...c.tactics];
    for (const s of steps) {
      for (const t of s.rule?.techniques ?? []) if (!techniques.includes(t)) techniques.push(t);
      for (const t of s.rule?.tactics ?? []) if (!tactics.includes(t)) tactics.push(t);
    }
    if (tactics.length === 0) tactics.push("execution");
    const last = steps[steps.length - 1]?.where;
    const first = steps[0]?.where;
    // The principal the chain is about: the group's principal if grouped by one, else the last actor.
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
    const evidence: Finding["evidence"] = {
      records: records.slice(0, MAX_EVIDENCE_RECORDS),
      correlation: { type: c.correlation.type, timespanMs: c.correlation.timespanMs, group: res.group },
      steps: steps.map((s) => ({
        rule: s.rule?.title ?? s.ev.ref,
        ruleId: s.ev.ref,
        time: s.ev.time,
        operation: s.where.operation,
        resourceId: s.where.resourceId,
        principal: s.where.principal.id ?? s.where.principal.name,
        ...(s.statuses.length > 0 ? { statuses: s.statuses } : {}),
        records: s.records.map((r) => evidenceOf(r).id),
      })),
    };
    if (byInstance.size > MAX_STEPS) evidence.stepCount = byInstance.size;
    const levels = steps.map((s) => s.rule?.level).filter((l): l is NonNullable<typeof l> => !!l);
    const severity = c.levelGiven ? c.level : (levels.sort((a, b) => severityRank(b) - severityRank(a))[0] ?? c.level);
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
      resourceId,
      principal,
      time: res.time,
      evidence,
    };
    const sub = steps.map((s) => s.where.subscriptionId).find((x) => x);
    if (sub) finding.subscriptionId = sub;
    if (c.atrm.length > 0) finding.atrm = [...c.atrm];
    return finding;
  }

  private toFinding(g: Group, extra: Record<string, unknown>): Finding {
    const r = g.first;
    const rule = g.rule;
    const techniques = [...rule.techniques];
    const tactics = rule.tactics.length > 0 ? [...rule.tactics] : ["execution"];
    const evidence: Finding["evidence"] = { records: [...g.records], ...extra };
    if (g.count > g.records.length) evidence.recordCount = g.count;
    if (Object.keys(g.matched).length > 0) evidence.matched = g.matched;
    let principal: Principal = {};
    let resourceId = "";
    let subscriptionId: string | undefined;
    let time: string | undefined;
    let operation: string | undefined;
    let fpExtra: string | undefined;
    let failed = false;
    if (r.kind === "activity") {
      principal = r.principal;
      resourceId = r.resourceId ?? "";
      subscriptionId = r.subscriptionId;
      time = g.firstTime ?? r.time;
      operation = r.operationName;
      evidence.operationName = r.operationName;
      if (r.correlationId) evidence.correlationId = r.correlationId;
      if (r.callerIpAddress) evidence.callerIpAddress = r.callerIpAddress;
      if (g.statuses.size > 0) evidence.statuses = [...g.statuses];
      evidence.outcome = g.statuses.has("Succeeded")
        ? "succeeded"
        : g.statuses.has("Failed")
          ? "failed"
          : ([...g.statuses][0]?.toLowerCase() ?? "unknown");
      if (evidence.outcome === "failed") {
        // A denied or failed attempt is a signal of its own (someone tried), reported as such.
        failed = true;
        const msg = g.failure?.properties.statusMessage ?? g.failure?.subStatus;
        if (msg !== undefined) evidence.failure = msg;
      }
      if (g.operations.size > 1 || g.fsKey !== undefined) evidence.operations = [...g.operations];
      if (g.lastTime && g.lastTime !== time) evidence.lastTime = g.lastTime;
      fpExtra = g.fsKey ?? `${r.correlationId ?? r.id}`;
    } else {
      // Configuration: who wrote it (or imported the image) and when, from the Activity Log.
      const where = this.locate(r);
      principal = where.principal;
      resourceId = where.resourceId;
      subscriptionId = where.subscriptionId;
      time = where.time;
      fpExtra = r.kind === "payload" ? r.resourceId : r.kind === "containerImage" ? (r.digest ?? r.id) : r.id;
      const image =
        r.kind === "containerImage"
          ? r.id
          : r.kind === "payload" && r.resourceType === "ContainerImage"
            ? r.resourceId
            : undefined;
      if (where.writer) {
        const w = where.writer;
        evidence[image ? "importedBy" : "writtenBy"] = {
          operation: w.operation,
          time: w.time,
          callerIpAddress: w.callerIpAddress,
          correlationId: w.correlationId,
        };
        const e = writeEvidence(w);
        if (!evidence.records.some((x) => x.id === e.id)) evidence.records.push(e);
      }
      if (image) {
        evidence.image = image;
        const imp = this.importFor(image);
        if (imp?.imp.source) evidence.importedFrom = imp.imp.source;
        if (imp?.inferred) {
          evidence.importLink =
            "inferred: the import into this registry closest to the image's creation (within an hour)";
        }
        const tags = this.imageTags.get(image)?.tags;
        if (tags) evidence.imageTags = [...tags];
      }
      if (r.kind === "payload") {
        for (const t of r.vectorTechniques) if (!techniques.includes(t)) techniques.push(t);
        // Every payload vector is an execution technique, whatever else the rule tags.
        if (!tactics.includes("execution")) tactics.push("execution");
        evidence.vector = r.vector;
        evidence.payloads = g.payloads;
      } else if (r.kind === "roleAssignment") {
        evidence.assignment = {
          id: r.id,
          principalId: r.principalId,
          principalType: r.principalType,
          roleDefinitionId: r.roleDefinitionId,
        };
      } else if (r.kind === "grant") {
        // A grant is about who can execute: the grantee, not whoever assigned the role.
        principal = {
          id: r.principalId,
          ...(r.principalType ? { type: r.principalType } : {}),
          ...(r.principalName ? { name: r.principalName } : {}),
        };
        evidence.grant = {
          role: r.roleName,
          roleDefinitionId: r.roleDefinitionId,
          operations: r.operations.slice(0, 20),
          assignedBy: r.assignment.createdBy,
        };
      }
    }
    if (!time) {
      time = this.options.scanTime;
      evidence.timeSource = "scan (no event ties this configuration to a time)";
    }
    const finding: Finding = {
      id: fingerprint([
        rule.id,
        resourceId.toLowerCase(),
        (principal.id ?? principal.name ?? "").toLowerCase(),
        fpExtra?.toLowerCase(),
        failed ? "failed" : undefined,
      ]),
      ruleId: rule.id,
      title: failed ? `${rule.title} (attempt failed)` : rule.title,
      severity: rule.level,
      attack: { tactics, techniques },
      resourceId,
      principal,
      time,
      evidence,
    };
    if (rule.atrm.length > 0) finding.atrm = [...rule.atrm];
    if (subscriptionId) finding.subscriptionId = subscriptionId;
    if (operation) finding.operation = operation;
    return finding;
  }

  /** `registry/repo@digest` → registry login server and repository. */
  private splitImage(imageId: string): { server: string; repository: string } {
    const slash = imageId.indexOf("/");
    const server = imageId.slice(0, slash);
    let rest = imageId.slice(slash + 1);
    const at = rest.indexOf("@");
    if (at >= 0) rest = rest.slice(0, at);
    return { server, repository: rest };
  }

  private imageTags = new Map<string, { tags: readonly string[]; created?: string }>();

  /** Remembers image tags so payload findings from an image can find its import. */
  noteImage(id: string, tags: readonly string[], created?: string): void {
    this.imageTags.set(id, { tags, created });
  }

  private importFor(imageId: string) {
    const { server, repository } = this.splitImage(imageId);
    const known = this.imageTags.get(imageId);
    return this.activity.importOf(server, repository, known?.tags ?? [], known?.created);
  }

  private registryFor(imageId: string): string | undefined {
    return this.activity.registryId(this.splitImage(imageId).server);
  }
}
