/**
 * The gate: which findings decide exit code 1. Suppressed findings (an accepted exception) and
 * findings in the baseline report (accepted when the gate was adopted) are reported but never
 * fail `--fail-on`.
 */
import { type Finding, type Severity, severityRank } from "../model/finding.js";

export { markBaseline, readBaseline } from "./baseline.js";

export function countsForGate(f: Finding): boolean {
  return f.status !== "suppressed" && f.baseline !== true;
}

/** The findings at or above `failOn` that fail the gate. */
export function failingFindings(findings: readonly Finding[], failOn: Severity): Finding[] {
  const min = severityRank(failOn);
  return findings.filter((f) => countsForGate(f) && severityRank(f.severity) >= min);
}
