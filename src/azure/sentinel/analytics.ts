/**
 * Activity Log rules as Microsoft Sentinel scheduled analytics rules over AzureActivity: the KQL
 * backend (src/kql/backend.ts) renders each rule's condition through the Azure KQL pipeline
 * (../kql.ts), and this module wraps it in the query shape each rule kind needs — a filter for a
 * single-event rule, `join kind=leftanti` against the learning window for a first-seen rule, and
 * `summarize` over `bin(TimeGenerated, …)` for the correlations KQL can express. Whatever cannot be
 * expressed comes back in `refused` with the reason, never approximated.
 */
import { createHash } from "node:crypto";
import { BASELINE_COLUMN } from "../../collectors/workspace/kql.js";
import { compileField, compileFilter, extendLines, KqlUnsupported, orderComputed } from "../../kql/backend.js";
import { kqlString } from "../../kql/literals.js";
import { requiredValues } from "../../matcher/compile.js";
import type { ResolvedCorrelation } from "../../sigma/ast.js";
import { RuleError } from "../../sigma/errors.js";
import type { ProcessedRule } from "../../sigma/pipeline.js";
import { canonicalField } from "../fields.js";
import { AZURE_ACTIVITY_SCHEMA, AZURE_KQL_PIPELINE, kqlFieldName } from "../kql.js";

/** How often a rule runs, in ms (Sentinel's minimum is 5 minutes). */
export const QUERY_FREQUENCY_MS = 60 * 60 * 1000;
/** Sentinel's longest rule query (characters; Microsoft Sentinel's scheduled-rule limit). */
export const MAX_QUERY_CHARS = 10_000;
/** Sentinel's longest query period. */
export const MAX_QUERY_PERIOD_MS = 14 * 24 * 60 * 60 * 1000;

export type AnalyticsKind = "single-event" | "first-seen" | "correlation";

/** One analytics rule, product-neutral until rendered as YAML or ARM (render.ts). */
export interface AnalyticsRule {
  /** A GUID (Sentinel rule ids and ARM names are GUIDs). */
  id: string;
  ruleId: string;
  file: string;
  kind: AnalyticsKind;
  name: string;
  description: string;
  severity: "Informational" | "Low" | "Medium" | "High";
  tactics: string[];
  /** ATT&CK ids as the rule lists them (techniques and sub-techniques). */
  techniques: string[];
  query: string;
  frequencyMs: number;
  periodMs: number;
}

export interface Refusal {
  ruleId: string;
  file: string;
  title: string;
  reason: string;
}

/** Where a rule's alert points: Sentinel entity mappings read these output columns. */
export const ENTITY_COLUMNS = {
  account: "Caller",
  ip: "CallerIpAddress",
  resource: "ResourceCustomEntity",
} as const;

/** What every rule's result keeps (AzureActivity columns; ResourceCustomEntity for the entity). */
const OUTPUT = [
  "TimeGenerated",
  "OperationNameValue",
  "ActivityStatusValue",
  "Caller",
  "CallerIpAddress",
  "_ResourceId",
  "SubscriptionId",
  "ResourceGroup",
  "CorrelationId",
  "EventDataId",
];

const SEVERITY: Record<string, AnalyticsRule["severity"]> = {
  informational: "Informational",
  low: "Low",
  medium: "Medium",
  high: "High",
  critical: "High",
};

/** `privilege-escalation` → `PrivilegeEscalation` (Sentinel's AttackTactic values). */
export function sentinelTactic(t: string): string {
  return t
    .split(/[-_ ]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

/** A stable GUID for a rule id that is not one (derived ids, correlation names). */
export function ruleGuid(id: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return id.toLowerCase();
  const h = createHash("sha256").update(`azure-exec-audit/${id}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** A duration as KQL writes a timespan literal (`1h`, `7d`, `15m`). */
export function kqlTimespan(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "m"],
    [1000, "s"],
  ];
  for (const [size, u] of units) if (ms % size === 0) return `${ms / size}${u}`;
  return `${ms}ms`;
}

function meta(rule: {
  id: string;
  file: string;
  title: string;
  description?: string;
  level: string;
  tactics: string[];
  techniques: string[];
}) {
  return {
    id: ruleGuid(rule.id),
    ruleId: rule.id,
    file: rule.file,
    name: rule.title,
    description: (rule.description ?? rule.title).trim(),
    severity: SEVERITY[rule.level] ?? "Medium",
    tactics: [...new Set(rule.tactics.map(sentinelTactic))],
    techniques: [...rule.techniques],
  };
}

/** The filter part of a rule: prefilter on operations, computed columns, condition. */
interface Filtered {
  lines: string[];
  computed: string[];
}

function filtered(p: ProcessedRule, extraComputed: string[] = []): Filtered {
  const f = compileFilter(p, AZURE_ACTIVITY_SCHEMA);
  const computed = orderComputed(AZURE_ACTIVITY_SCHEMA, [...f.computed, ...extraComputed]);
  const ops = requiredValues(p, (field) => field === "OperationNameValue");
  const lines = [
    AZURE_ACTIVITY_SCHEMA.table,
    // The operation names first, so the rest (parsing bodies) runs on few rows.
    ...(ops ? [`| where OperationNameValue in~ (${[...ops].sort().map(kqlString).join(", ")})`] : []),
    ...extendLines(AZURE_ACTIVITY_SCHEMA, computed),
    `| where ${f.where}`,
  ];
  return { lines, computed };
}

function outputLines(extra: string[] = []): string[] {
  return [
    `| extend ${ENTITY_COLUMNS.resource} = _ResourceId`,
    `| project ${[...OUTPUT, ENTITY_COLUMNS.resource, ...extra].join(", ")}`,
  ];
}

/** Processes a detection rule through the KQL pipeline; a logsource without a table is a refusal. */
function processRule(rule: ProcessedRule | Parameters<typeof AZURE_KQL_PIPELINE.apply>[0]): ProcessedRule {
  try {
    return AZURE_KQL_PIPELINE.apply(rule);
  } catch (e) {
    if (e instanceof RuleError) throw new KqlUnsupported(e.problem ?? e.message);
    throw e;
  }
}

/** One detection rule (single-event or first-seen) → an analytics rule; throws KqlUnsupported. */
export function analyticsForRule(rule: Parameters<typeof AZURE_KQL_PIPELINE.apply>[0]): AnalyticsRule {
  const p = processRule(rule);
  const fs = p.ext.firstseen;
  const fsFields = rule.ext.firstseen?.fields ?? [];
  if (!fs) {
    const f = filtered(p);
    return {
      ...meta(rule),
      kind: "single-event",
      query: [...f.lines, ...outputLines()].join("\n"),
      frequencyMs: QUERY_FREQUENCY_MS,
      periodMs: QUERY_FREQUENCY_MS,
    };
  }
  // First seen: this run's matches whose key did not occur in the learning window before it.
  // The keys the workspace collector's baselines use (kql.ts BASELINE_COLUMN): computed as the
  // engine computes them (the operation lower-cased, the principal from the claims).
  const keys = fsFields.map((f) => {
    const col = BASELINE_COLUMN[canonicalField("activity", f).toLowerCase()];
    if (!col) throw new KqlUnsupported(`first-seen field ${f} has no baseline column`);
    return compileField(col, AZURE_ACTIVITY_SCHEMA);
  });
  for (const k of keys) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k.expr)) {
      throw new KqlUnsupported(`first-seen key ${k.expr} is not a column a join can use`);
    }
  }
  const keyNames = keys.map((k) => k.expr);
  const periodMs = fs.learningMs + QUERY_FREQUENCY_MS;
  if (periodMs > MAX_QUERY_PERIOD_MS) {
    throw new KqlUnsupported(
      `a learning period of ${kqlTimespan(fs.learningMs)} is longer than Sentinel's 14-day query period allows`,
    );
  }
  const keyComputed = keys.flatMap((k) => k.needs);
  const f = filtered(p, keyComputed);
  const baselineComputed = orderComputed(AZURE_ACTIVITY_SCHEMA, keyComputed);
  const nonEmpty = keyNames.map((k) => `isnotempty(${k})`).join(" and ");
  const query = [
    `let lookback = ${kqlTimespan(QUERY_FREQUENCY_MS)};`,
    `let learning = ${kqlTimespan(fs.learningMs)};`,
    // Every operation counts towards the baseline, as the engine's first-seen tracker counts them.
    "let Baseline = AzureActivity",
    "| where TimeGenerated >= ago(lookback + learning) and TimeGenerated < ago(lookback)",
    ...extendLines(AZURE_ACTIVITY_SCHEMA, baselineComputed),
    `| where ${nonEmpty}`,
    `| distinct ${keyNames.join(", ")};`,
    f.lines[0] as string,
    "| where TimeGenerated >= ago(lookback)",
    ...f.lines.slice(1),
    // A match missing a key part is reported as it is (the engine gates only complete keys);
    // the baseline never holds an empty part, so the anti-join keeps it.
    `| join kind=leftanti Baseline on ${keyNames.join(", ")}`,
    ...outputLines(keyNames.filter((k) => !OUTPUT.includes(k))),
  ].join("\n");
  return { ...meta(rule), kind: "first-seen", query, frequencyMs: QUERY_FREQUENCY_MS, periodMs };
}

/**
 * A correlation → an analytics rule where KQL can say it: `value_count` as a distinct count per
 * group and `bin(TimeGenerated, timespan)`; `temporal_ordered` as the first rule's earliest time
 * before the last rule's latest in a bin. Fixed bins can split a burst the engine's sliding window
 * would keep together (docs/sentinel.md says so). `steps: keep notable`, aliases and references to
 * correlations are refused: they need findings or scan-wide judgements.
 */
export function analyticsForCorrelation(
  c: ResolvedCorrelation,
  rulesById: ReadonlyMap<string, Parameters<typeof AZURE_KQL_PIPELINE.apply>[0]>,
): AnalyticsRule {
  const cor = c.correlation;
  if (c.ext.steps) {
    throw new KqlUnsupported("`steps: keep notable` judges each step by other findings and scan-wide baselines");
  }
  if (Object.keys(cor.aliases).length > 0) throw new KqlUnsupported("field aliases across rules are not rendered yet");
  const refs = c.refs.map((id) => {
    const r = rulesById.get(id);
    if (!r) throw new KqlUnsupported(`references ${id}, which is a correlation or not an Activity Log rule`);
    return processRule(r);
  });
  const groupBy = cor.groupBy.map((g) => compileField(kqlFieldName(g), AZURE_ACTIVITY_SCHEMA));
  for (const g of groupBy) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(g.expr)) throw new KqlUnsupported(`group-by ${g.expr} is not a column`);
  }
  const by = groupBy.map((g) => g.expr);
  const span = kqlTimespan(cor.timespanMs);
  const periodMs = Math.max(QUERY_FREQUENCY_MS, cor.timespanMs * 2);
  if (periodMs > MAX_QUERY_PERIOD_MS)
    throw new KqlUnsupported("the correlation's timespan is longer than Sentinel's query period");
  let counted: { expr: string; needs: string[] } | undefined;
  if (cor.type === "value_count") {
    if (!cor.field) throw new KqlUnsupported("value_count without a field");
    counted = compileField(kqlFieldName(cor.field), AZURE_ACTIVITY_SCHEMA);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(counted.expr))
      throw new KqlUnsupported(`counted field ${counted.expr} is not a column`);
  }
  const needs = [...groupBy.flatMap((g) => g.needs), ...(counted?.needs ?? [])];
  const steps = refs.map((p, i) => {
    const f = filtered(p, needs);
    return [`let Step${i + 1} = ${f.lines[0]}`, ...f.lines.slice(1), `| extend Step = ${i + 1};`];
  });
  const nonEmpty = by.map((k) => `isnotempty(${k})`).join(" and ");
  let tail: string[];
  if (counted) {
    const cond = Object.entries(cor.condition)
      .map(([op, v]) => `Values ${{ gt: ">", gte: ">=", lt: "<", lte: "<=", eq: "==" }[op]} ${v}`)
      .join(" and ");
    tail = [
      `| where ${nonEmpty} and isnotempty(${counted.expr})`,
      `| summarize Values = dcount(${counted.expr}), Distinct = make_set(${counted.expr}, 100), StartTime = min(TimeGenerated), EndTime = max(TimeGenerated), Callers = make_set(Caller, 10), IPs = make_set(CallerIpAddress, 10), ResourceCustomEntity = take_any(_ResourceId), Caller = take_any(Caller), CallerIpAddress = take_any(CallerIpAddress) by ${by.join(", ")}, bin(TimeGenerated, ${span})`,
      `| where ${cond || "Values > 0"}`,
    ];
  } else if (cor.type === "temporal_ordered" || cor.type === "temporal") {
    if (Object.keys(cor.condition).length > 0)
      throw new KqlUnsupported("a temporal condition other than 'all rules' is not rendered");
    const firsts = refs.map((_, i) => `First${i + 1} = minif(TimeGenerated, Step == ${i + 1})`);
    const lasts = refs.map((_, i) => `Last${i + 1} = maxif(TimeGenerated, Step == ${i + 1})`);
    const all = refs.map((_, i) => `isnotnull(First${i + 1})`);
    const ordered = cor.type === "temporal_ordered" ? refs.slice(1).map((_, i) => `First${i + 1} <= Last${i + 2}`) : [];
    tail = [
      `| where ${nonEmpty}`,
      `| summarize ${[...firsts, ...lasts].join(", ")}, Operations = make_set(OperationNameValue, 20), ResourceCustomEntity = take_any(_ResourceId), Caller = take_any(Caller), CallerIpAddress = take_any(CallerIpAddress) by ${by.join(", ")}, bin(TimeGenerated, ${span})`,
      `| where ${[...all, ...ordered].join(" and ")}`,
    ];
  } else {
    throw new KqlUnsupported(`correlation type ${cor.type} is not rendered`);
  }
  const query = [...steps.flat(), `union ${refs.map((_, i) => `Step${i + 1}`).join(", ")}`, ...tail].join("\n");
  return { ...meta(c), kind: "correlation", query, frequencyMs: QUERY_FREQUENCY_MS, periodMs };
}

export interface AnalyticsPack {
  rules: AnalyticsRule[];
  refused: Refusal[];
}

/** Every non-private Activity Log rule and correlation of a loaded pack, compiled or refused. */
export function analyticsPack(
  rules: readonly (Parameters<typeof AZURE_KQL_PIPELINE.apply>[0] & { private?: boolean })[],
  correlations: readonly ResolvedCorrelation[],
): AnalyticsPack {
  const out: AnalyticsRule[] = [];
  const refused: Refusal[] = [];
  const refuse = (r: { id: string; file: string; title: string }, reason: string) =>
    refused.push({ ruleId: r.id, file: r.file, title: r.title, reason });
  const fits = (a: AnalyticsRule): AnalyticsRule => {
    if (a.query.length > MAX_QUERY_CHARS) {
      throw new KqlUnsupported(`its query is ${a.query.length} characters, over Sentinel's ${MAX_QUERY_CHARS}`);
    }
    return a;
  };
  for (const r of rules) {
    if (r.private) continue;
    try {
      out.push(fits(analyticsForRule(r)));
    } catch (e) {
      if (e instanceof KqlUnsupported) refuse(r, e.message);
      else throw e;
    }
  }
  const byId = new Map(rules.map((r) => [r.id, r]));
  for (const c of correlations) {
    try {
      out.push(fits(analyticsForCorrelation(c, byId)));
    } catch (e) {
      if (e instanceof KqlUnsupported) refuse(c, e.message);
      else throw e;
    }
  }
  return { rules: out, refused };
}
