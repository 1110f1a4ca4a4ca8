/**
 * Stage: finding construction, one builder per evidence kind. A group of matches of one rule
 * becomes one Finding with a stable id (fingerprint of rule, resource, principal and key
 * evidence) and typed evidence pointing back at its source records.
 */
import { canonicalOperation, canonicalResourceId } from "../../azure/catalog/canonical.js";
import type { Attribution } from "../../azure/enrich/attribution.js";
import type {
  ActivityEvidence,
  Authorship,
  Evidence,
  EvidenceBase,
  Finding,
  FirstSeenEvidence,
  ImageFacts,
} from "../../model/finding.js";
import type { ActivityEvent, Principal } from "../../model/records.js";
import { fingerprint } from "../fingerprint.js";
import type { Group } from "../grouping.js";
import { type Located, locate, writeEvidence } from "./locate.js";

export interface FirstSeenFacts {
  baseline: { from: string; learningEnd: string };
  firstSeen: string;
}

interface Built {
  evidence: Evidence;
  principal: Principal;
  resourceId: string;
  subscriptionId?: string;
  time?: string;
  operation?: string;
  /** Key evidence that tells two findings of one rule, resource and principal apart. */
  fpExtra?: string;
  failed?: boolean;
  techniques?: string[];
}

const STATUS_ORDER = ["Started", "Accepted", "Succeeded", "Failed"];
const byStatus = (a: string, b: string) => {
  const [x, y] = [STATUS_ORDER.indexOf(a), STATUS_ORDER.indexOf(b)];
  return x !== y ? (x < 0 ? 1 : y < 0 ? -1 : x - y) : a < b ? -1 : a > b ? 1 : 0;
};

type Base = EvidenceBase;

function base(g: Group): Base {
  const records = g.sample.list();
  const b: Base = { records };
  if (g.count > records.length) b.recordCount = g.count;
  if (Object.keys(g.matched).length > 0) b.matched = canonicalMatched(g.matched);
  if (g.matchedCuts) b.matchedTruncated = { ...g.matchedCuts };
  return b;
}

/** Matched operation names and resource ids in canonical spelling, like the finding's own. */
function canonicalMatched(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    const key = k.toLowerCase();
    const fix = key === "operationname" ? canonicalOperation : key === "resourceid" ? canonicalResourceId : undefined;
    out[k] = !fix
      ? v
      : typeof v === "string"
        ? fix(v)
        : Array.isArray(v)
          ? v.map((x) => (typeof x === "string" ? fix(x) : x))
          : v;
  }
  return out;
}

function activity(g: Group, r: ActivityEvent, fs?: FirstSeenFacts): Built {
  const statuses = [...g.statuses].sort(byStatus);
  // A finding is an attempt that failed only when no occurrence of it succeeded.
  const outcome = g.statuses.includes("Succeeded")
    ? "succeeded"
    : g.statuses.includes("Failed")
      ? "failed"
      : (statuses[0]?.toLowerCase() ?? "unknown");
  const e: Omit<ActivityEvidence, "kind"> = {
    ...base(g),
    operationName: canonicalOperation(r.operationName),
    occurrences: g.instances.length,
    ...(g.moreInstances ? { occurrencesAtLeast: true } : {}),
    outcome,
  };
  if (r.correlationId) e.correlationId = r.correlationId;
  if (r.callerIpAddress) e.callerIpAddress = r.callerIpAddress;
  if (statuses.length > 0) e.statuses = statuses;
  const failed = outcome === "failed";
  if (failed) {
    // A denied or failed attempt is a signal of its own (someone tried), reported as such.
    const msg = g.failure?.message;
    if (msg !== undefined) e.failure = msg;
  }
  if (g.operations.length > 1 || g.fsKey !== undefined) {
    // One entry per operation whatever the case it was written in.
    e.operations = [...new Set([...g.operations].map(canonicalOperation))].sort().slice(0, 20);
  }
  const time = g.firstTime ?? r.time;
  if (g.lastTime && g.lastTime !== time) e.lastTime = g.lastTime;
  const evidence: Evidence = fs
    ? ({ kind: "firstSeen", ...e, ...fs, ...(g.fsValues ? { newValue: g.fsValues } : {}) } satisfies FirstSeenEvidence)
    : { kind: "activity", ...e };
  return {
    evidence,
    principal: r.principal,
    resourceId: r.resourceId ?? "",
    subscriptionId: r.subscriptionId,
    time,
    operation: canonicalOperation(r.operationName),
    // Occurrences merge: the id is the rule, resource and principal (and the first-seen key).
    fpExtra: g.fsKey,
    failed,
  };
}

function authorship(w: NonNullable<Located["writer"]>): Authorship {
  const a: Authorship = { operation: canonicalOperation(w.operation), time: w.time };
  if (w.callerIpAddress !== undefined) a.callerIpAddress = w.callerIpAddress;
  if (w.correlationId !== undefined) a.correlationId = w.correlationId;
  return a;
}

function imageFacts(where: Located, a: Attribution): ImageFacts {
  const image = where.image as string;
  const f: ImageFacts = { image };
  if (where.writer) f.importedBy = authorship(where.writer);
  if (where.imported?.imp.source) f.importedFrom = where.imported.imp.source;
  if (where.imported?.inferred) {
    f.importLink = "inferred: the import into this registry closest to the image's creation (within an hour)";
  }
  const tags = a.imageInfo(image)?.tags;
  if (tags) f.imageTags = [...tags];
  return f;
}

/** Configuration, images, payloads and RBAC: who wrote it (or imported the image) and when. */
function configuration(g: Group, a: Attribution): Built {
  const r = g.first;
  const where = locate(r, a);
  const b = base(g);
  if (where.writer) {
    const w = writeEvidence(where.writer);
    if (!b.records.some((x) => x.id === w.id)) b.records.push(w);
  }
  const out: Omit<Built, "evidence"> = {
    principal: where.principal,
    resourceId: where.resourceId,
    subscriptionId: where.subscriptionId,
    time: where.time,
  };
  switch (r.kind) {
    case "payload": {
      const facts = where.image ? imageFacts(where, a) : {};
      const evidence: Evidence = {
        kind: "payload",
        ...b,
        ...(where.writer && !where.image ? { writtenBy: authorship(where.writer) } : {}),
        ...facts,
        vector: r.vector,
        payloads: g.payloads,
      };
      return { ...out, evidence, fpExtra: r.source.id, techniques: [...r.vectorTechniques] };
    }
    case "containerImage":
      return { ...out, evidence: { kind: "image", ...b, ...imageFacts(where, a) }, fpExtra: r.digest ?? r.id };
    case "roleAssignment":
      return {
        ...out,
        fpExtra: r.id,
        evidence: {
          kind: "roleAssignment",
          ...b,
          assignment: {
            id: r.id,
            principalId: r.principalId,
            ...(r.principalType ? { principalType: r.principalType } : {}),
            roleDefinitionId: r.roleDefinitionId,
            ...(r.condition ? { condition: r.condition } : {}),
          },
        },
      };
    case "grant":
      return {
        ...out,
        // A grant is about who can execute: the grantee, not whoever assigned the role.
        principal: {
          id: r.principalId,
          ...(r.principalType ? { type: r.principalType } : {}),
          ...(r.principalName ? { name: r.principalName } : {}),
        },
        fpExtra: r.id,
        evidence: {
          kind: "grant",
          ...b,
          grant: {
            role: r.roleName,
            roleDefinitionId: r.roleDefinitionId,
            operations: r.operations.slice(0, 20),
            ...(r.assignment.createdBy ? { assignedBy: r.assignment.createdBy } : {}),
            ...(r.assignment.condition ? { condition: r.assignment.condition } : {}),
          },
        },
      };
    default:
      return {
        ...out,
        fpExtra: r.id,
        evidence: { kind: "configuration", ...b, ...(where.writer ? { writtenBy: authorship(where.writer) } : {}) },
      };
  }
}

/** A group of one rule's matches as a Finding. `scanTime` dates configuration nobody can be tied to. */
export function buildFinding(g: Group, a: Attribution, scanTime: string, fs?: FirstSeenFacts): Finding {
  const rule = g.rule;
  const built = g.first.kind === "activity" ? activity(g, g.first, fs) : configuration(g, a);
  const techniques = [...rule.techniques];
  for (const t of built.techniques ?? []) if (!techniques.includes(t)) techniques.push(t);
  const tactics = rule.tactics.length > 0 ? [...rule.tactics] : ["execution"];
  // Every payload vector is an execution technique, whatever else the rule tags.
  if (g.first.kind === "payload" && !tactics.includes("execution")) tactics.push("execution");
  let time = built.time;
  if (!time) {
    time = scanTime;
    if (built.evidence.kind !== "activity" && built.evidence.kind !== "firstSeen" && built.evidence.kind !== "chain") {
      built.evidence.timeSource = "scan (no event ties this configuration to a time)";
    }
  }
  const finding: Finding = {
    id: fingerprint([
      rule.id,
      built.resourceId.toLowerCase(),
      (built.principal.id ?? built.principal.name ?? "").toLowerCase(),
      built.fpExtra?.toLowerCase(),
      built.failed ? "failed" : undefined,
    ]),
    ruleId: rule.id,
    title: built.failed ? `${rule.title} (attempt failed)` : rule.title,
    severity: rule.level,
    attack: { tactics, techniques },
    resourceId: canonicalResourceId(built.resourceId),
    principal: built.principal,
    time,
    evidence: built.evidence,
  };
  if (rule.ext.atrm.length > 0) finding.atrm = [...rule.ext.atrm];
  if (built.subscriptionId) finding.subscriptionId = built.subscriptionId;
  if (built.operation) finding.operation = built.operation;
  return finding;
}
