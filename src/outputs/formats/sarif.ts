/**
 * `--format sarif`: SARIF 2.1.0 for GitHub code scanning.
 *
 * Cloud findings have no source file, so every result points at one repository file the
 * workflow controls (`--sarif-artifact-uri`, default `.github/azure-exec-audit.yml`, line 1) and carries the ARM
 * resource id as a logical location. `partialFingerprints` holds the finding id, so alerts
 * stay the same alert across runs. Scan coverage problems become tool execution notifications.
 *
 * No `automationDetails.id` is written: GitHub groups analyses by it, and a per-scan value
 * would make every run a new analysis. The upload step's `category` sets it when needed.
 */

import type { CoverageEntry, Finding, RuleSummary, ScanResult, Severity } from "../../model/finding.js";
import { UsageError } from "../../util/errors.js";
import { escapeMarkdown, sanitizeForTerminal } from "../../util/text.js";
import {
  principalLabel,
  safeCoverage,
  safeFinding,
  safeResolved,
  safeText,
  TOOL_INFORMATION_URI,
  TOOL_NAME,
} from "../common.js";
import { StreamedArray, writeJson } from "../json-writer.js";
import type { OutputFormat, RenderContext } from "../registry.js";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";
export const DEFAULT_ARTIFACT_URI = ".github/azure-exec-audit.yml";
export const FINGERPRINT_KEY = "azureExecAuditFindingId/v1";

type SarifLevel = "error" | "warning" | "note";

export function sarifLevel(s: Severity): SarifLevel {
  if (s === "critical" || s === "high") return "error";
  if (s === "medium") return "warning";
  return "note";
}

/** GitHub's `security-severity` (0.0–10.0, as a string): ≥9 critical, ≥7 high, ≥4 medium. */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  informational: "1.0",
};

/**
 * Normalise a repository-relative path into a SARIF uri reference. Throws a UsageError (one
 * sentence that names the fix) for absolute paths, URLs, drive letters and `..` segments, which GitHub rejects
 * or cannot map to a file.
 */
export function toRepoRelativeUri(path: string): string {
  const p = path
    .trim()
    .replace(/\\/g, "/")
    .replace(/^(?:\.\/)+/, "");
  const segments = p.split("/");
  if (
    p.length === 0 ||
    p.startsWith("/") ||
    /^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) ||
    segments.some((s) => s === ".." || s === "")
  ) {
    throw new UsageError(
      `SARIF artifact path "${sanitizeForTerminal(path)}" must be a file path relative to the repository root, such as ${DEFAULT_ARTIFACT_URI}.`,
    );
  }
  return segments.map((s) => (s === "." ? s : encodeURIComponent(s))).join("/");
}

function oneLine(s: string, max: number): string {
  return sanitizeForTerminal(safeText(s, max));
}

/** PascalCase identifier from a title, as SARIF recommends for `reportingDescriptor.name`. */
function ruleName(rule: RuleSummary): string {
  const words = rule.title.match(/[A-Za-z0-9]+/g) ?? [];
  const name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  return name.length > 0 ? name.slice(0, 128) : rule.id;
}

const HTTP_URL = /^https?:\/\/[^\s<>"]+$/;

function ruleHelp(rule: RuleSummary): { text: string; markdown: string } {
  const text: string[] = [oneLine(rule.title, 1024)];
  const md: string[] = [`**${escapeMarkdown(oneLine(rule.title, 1024))}**`];
  if (rule.description) {
    text.push("", safeText(rule.description));
    md.push("", escapeMarkdown(safeText(rule.description)));
  }
  const attack = [...rule.tactics, ...rule.techniques].map((t) => oneLine(t, 64));
  if (attack.length > 0) {
    text.push("", `MITRE ATT&CK: ${attack.join(", ")}`);
    md.push("", `MITRE ATT&CK: ${attack.map(escapeMarkdown).join(", ")}`);
  }
  if (rule.atrm && rule.atrm.length > 0) {
    const atrm = rule.atrm.map((t) => oneLine(t, 64));
    text.push("", `Azure Threat Research Matrix: ${atrm.join(", ")}`);
    md.push("", `Azure Threat Research Matrix: ${atrm.map(escapeMarkdown).join(", ")}`);
  }
  if (rule.falsepositives && rule.falsepositives.length > 0) {
    text.push("", "False positives:");
    md.push("", "False positives:", "");
    for (const fp of rule.falsepositives) {
      text.push(`- ${oneLine(fp, 1024)}`);
      md.push(`- ${escapeMarkdown(oneLine(fp, 1024))}`);
    }
  }
  if (rule.references && rule.references.length > 0) {
    text.push("", "References:");
    md.push("", "References:", "");
    for (const ref of rule.references) {
      const r = oneLine(ref, 2048);
      text.push(`- ${r}`);
      md.push(HTTP_URL.test(r) ? `- <${r}>` : `- ${escapeMarkdown(r)}`);
    }
  }
  return { text: text.join("\n"), markdown: md.join("\n") };
}

function sarifRule(rule: RuleSummary): Record<string, unknown> {
  const helpUri = rule.references?.find((r) => HTTP_URL.test(r));
  const title = oneLine(rule.title, 1024);
  return {
    id: rule.id,
    name: ruleName(rule),
    shortDescription: { text: title },
    fullDescription: { text: rule.description ? safeText(rule.description) : title },
    ...(helpUri ? { helpUri } : {}),
    help: ruleHelp(rule),
    defaultConfiguration: { level: sarifLevel(rule.level) },
    properties: {
      tags: ["security", ...rule.techniques.map((t) => oneLine(t, 64))],
      "security-severity": SECURITY_SEVERITY[rule.level],
      // Rules that list known false positives are "medium" precision, others "high".
      precision: rule.falsepositives && rule.falsepositives.length > 0 ? "medium" : "high",
      tactics: rule.tactics.map((t) => oneLine(t, 64)),
      ...(rule.atrm ? { atrm: rule.atrm.map((t) => oneLine(t, 64)) } : {}),
    },
  };
}

/** Rules from the scan, plus a minimal rule for any finding whose rule was not listed. */
function collectRules(result: ScanResult): RuleSummary[] {
  const rules: RuleSummary[] = [];
  const seen = new Set<string>();
  for (const r of result.rules) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    rules.push(r);
  }
  for (const f of result.findings) {
    if (seen.has(f.ruleId)) continue;
    seen.add(f.ruleId);
    rules.push({
      id: f.ruleId,
      title: f.title,
      level: f.severity,
      techniques: [...f.attack.techniques],
      tactics: [...f.attack.tactics],
      ...(f.atrm ? { atrm: [...f.atrm] } : {}),
    });
  }
  return rules;
}

function resultMessage(f: Finding): string {
  const parts = [f.title, `resource ${f.resourceId}`, `principal ${principalLabel(f.principal)}`, `at ${f.time}`];
  const e = f.evidence;
  if ((e.kind === "grant" && e.grant.condition) || (e.kind === "roleAssignment" && e.assignment.condition))
    parts.push("the role assignment has a condition that may narrow it");
  return oneLine(parts.join(" — "), 4096);
}

/**
 * A suppressed finding as SARIF says it: an external suppression (the entry lives in a file
 * outside the analysed code), accepted, with the entry's reason as the justification.
 */
function sarifSuppressions(f: Finding): { suppressions?: Record<string, unknown>[] } {
  if (f.status !== "suppressed" || !f.suppression) return {};
  const s = f.suppression;
  return {
    suppressions: [
      {
        kind: "external",
        status: "accepted",
        justification: oneLine(s.reason, 1024),
        properties: { expires: safeText(s.expires, 64), entry: safeText(s.entry, 1024) },
      },
    ],
  };
}

/**
 * SARIF's `baselineState`, the one place that decides it. With `--baseline <report.json>` the
 * comparison with that report does (`unchanged` for a finding in it, `new` otherwise): it is
 * what the gate uses. Else the state store's lifecycle: `new` when the finding was not present
 * before this scan, `unchanged` when it was. With neither there is no value. Resolved findings
 * are not written as `absent` results: code scanning would read each as an alert; the JSON
 * report's `resolved` section lists them.
 */
export function sarifBaselineState(f: Finding, scanStart: string): { baselineState?: "new" | "unchanged" } {
  if (f.baseline !== undefined) return { baselineState: f.baseline ? "unchanged" : "new" };
  if (f.firstSeen === undefined) return {};
  if (f.status === "new") return { baselineState: "new" };
  if (f.status === "open") return { baselineState: "unchanged" };
  return { baselineState: f.firstSeen === scanStart ? "new" : "unchanged" };
}

function sarifResult(f: Finding, ruleIndex: number, uri: string, scanStart: string): Record<string, unknown> {
  const safe = safeFinding(f);
  const resourceId = oneLine(f.resourceId, 4096);
  const lastSegment =
    resourceId
      .split("/")
      .filter((s) => s.length > 0)
      .at(-1) ?? resourceId;
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: resultMessage(f) },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri, uriBaseId: "%SRCROOT%" },
          region: { startLine: 1 },
        },
        logicalLocations: [{ name: lastSegment, fullyQualifiedName: resourceId, kind: "resource" }],
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: f.id },
    ...sarifSuppressions(f),
    ...sarifBaselineState(f, scanStart),
    properties: {
      severity: f.severity,
      ...(safe.subscriptionId ? { subscriptionId: safe.subscriptionId } : {}),
      resourceId: safe.resourceId,
      principal: safe.principal,
      time: safe.time,
      ...(safe.operation ? { operation: safe.operation } : {}),
      ...(safe.status ? { status: safe.status } : {}),
      ...(safe.firstSeen ? { firstSeen: safe.firstSeen } : {}),
      attack: safe.attack,
      ...(safe.atrm ? { atrm: safe.atrm } : {}),
      records: safe.evidence.records,
    },
  };
}

const NOTIFICATION_DESCRIPTORS = [
  {
    id: "coverage/partial",
    name: "CoveragePartial",
    shortDescription: { text: "A source, scope or time window was read only in part." },
    defaultConfiguration: { level: "warning" },
  },
  {
    id: "coverage/failed",
    name: "CoverageFailed",
    shortDescription: { text: "A source, scope or time window could not be read." },
    defaultConfiguration: { level: "error" },
  },
  {
    id: "coverage/empty",
    name: "CoverageEmpty",
    shortDescription: {
      text: "A source or scope was read but held no record: nothing was checked there (a wrong path, filter or window?).",
    },
    defaultConfiguration: { level: "warning" },
  },
] as const;

/** The notification descriptor of a coverage status other than complete. */
function descriptorIndex(status: CoverageEntry["status"]): number {
  return status === "failed" ? 1 : status === "empty" ? 2 : 0;
}

function coverageNotification(c: CoverageEntry): Record<string, unknown> {
  const index = descriptorIndex(c.status);
  const safe = safeCoverage(c);
  const window = safe.from || safe.to ? ` ${safe.from ?? "…"} → ${safe.to ?? "…"}` : "";
  const text = `${safe.source} ${safe.scope}${window}: ${safe.status} after ${safe.records} records${safe.reason ? `: ${safe.reason}` : ""}`;
  return {
    level: NOTIFICATION_DESCRIPTORS[index]?.defaultConfiguration.level,
    message: { text: sanitizeForTerminal(text) },
    descriptor: { id: NOTIFICATION_DESCRIPTORS[index]?.id, index },
    properties: { ...safe },
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** The SARIF log as one value; `results` is produced lazily while it is written. */
function sarifLog(result: ScanResult, ctx: RenderContext): Record<string, unknown> {
  const artifact = ctx.options.artifactUri;
  // Validated before anything is written, so a bad path fails without a half-written report.
  const uri = toRepoRelativeUri(typeof artifact === "string" ? artifact : DEFAULT_ARTIFACT_URI);
  const toolVersion = ctx.toolVersion;
  const rules = collectRules(result);
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));

  const notifications = result.coverage.filter((c) => c.status !== "complete").map(coverageNotification);
  if (!result.complete && notifications.length === 0) {
    notifications.push({
      level: "error",
      message: { text: "The scan is incomplete: a source, scope or time window could not be read." },
      descriptor: { id: NOTIFICATION_DESCRIPTORS[1].id, index: 1 },
    });
  }

  const invocation: Record<string, unknown> = { executionSuccessful: result.complete };
  if (ISO_TIME.test(result.startedAt)) invocation.startTimeUtc = result.startedAt;
  if (ISO_TIME.test(result.finishedAt)) invocation.endTimeUtc = result.finishedAt;
  if (notifications.length > 0) invocation.toolExecutionNotifications = notifications;

  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            version: toolVersion,
            ...(SEMVER.test(toolVersion) ? { semanticVersion: toolVersion } : {}),
            informationUri: TOOL_INFORMATION_URI,
            rules: rules.map(sarifRule),
            notifications: NOTIFICATION_DESCRIPTORS,
          },
        },
        invocations: [invocation],
        columnKind: "utf16CodeUnits",
        results: new StreamedArray(
          (function* () {
            for (const f of result.findings) yield sarifResult(f, ruleIndex.get(f.ruleId) ?? 0, uri, result.startedAt);
          })(),
        ),
        properties: {
          scanId: safeText(result.id),
          complete: result.complete,
          coverage: result.coverage.map(safeCoverage),
          ...(result.resolved ? { resolved: result.resolved.map(safeResolved) } : {}),
        },
      },
    ],
  };
}

export const sarifFormat: OutputFormat = {
  name: "sarif",
  description: "SARIF 2.1.0 for GitHub code scanning",
  fileExtension: "sarif",
  options: [
    {
      flag: "--sarif-artifact-uri <path>",
      description: "repository file that SARIF results point at",
      key: "artifactUri",
      default: DEFAULT_ARTIFACT_URI,
    },
  ],
  async render(result, ctx, out) {
    await writeJson(out, sarifLog(result, ctx));
  },
};
