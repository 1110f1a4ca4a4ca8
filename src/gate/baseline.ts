/**
 * A baseline for gating: a JSON report written earlier by `scan --format json`. Findings whose
 * id is in it are accepted (the estate as it was when the gate was adopted); `--fail-on` then
 * fails only on the others. Finding ids are fingerprints of rule, resource and principal (and a
 * first-seen key), so the same finding has the same id in every scan.
 */
import type { ScanResult } from "../model/finding.js";
import { TOOL_NAME } from "../outputs/common.js";
import { JSON_SCHEMA_VERSION, SAME_FINDING_IDS } from "../outputs/formats/json.js";
import { UsageError } from "../util/errors.js";
import { readUserText, showValue } from "../util/yaml-config.js";

/** The finding ids of a baseline report; anything but a report of ours is a usage error (exit 3). */
export function readBaseline(file: string): Set<string> {
  const text = readUserText(file, file, "--baseline");
  const fix = `pass a report written by 'azure-exec-audit scan --format json'`;
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    throw new UsageError(`--baseline ${file} is not JSON; ${fix}`);
  }
  const r = report as { schemaVersion?: unknown; tool?: { name?: unknown }; findings?: unknown } | null;
  if (r === null || typeof r !== "object" || r.tool?.name !== TOOL_NAME)
    throw new UsageError(
      `--baseline ${file} is not a JSON report of ${TOOL_NAME} (no tool.name '${TOOL_NAME}'); ${fix}`,
    );
  if (typeof r.schemaVersion !== "string" || !SAME_FINDING_IDS.includes(r.schemaVersion))
    throw new UsageError(
      `--baseline ${file} is a report of schema ${showValue(r.schemaVersion)}, and finding ids are comparable only within schemas ${SAME_FINDING_IDS.map((v) => `'${v}'`).join(" and ")} (this version writes '${JSON_SCHEMA_VERSION}'); write the baseline again with this version`,
    );
  if (!Array.isArray(r.findings) || r.findings.some((f) => typeof (f as { id?: unknown } | null)?.id !== "string"))
    throw new UsageError(`--baseline ${file} has no list of findings with ids; ${fix}`);
  return new Set((r.findings as { id: string }[]).map((f) => f.id));
}

/** Marks every finding `baseline: true|false` (in the baseline or not). Pure. */
export function markBaseline(result: ScanResult, ids: ReadonlySet<string>): ScanResult {
  return { ...result, findings: result.findings.map((f) => ({ ...f, baseline: ids.has(f.id) })) };
}
