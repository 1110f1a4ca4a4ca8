/**
 * `--format navigator`: an ATT&CK Navigator layer, file format 4.5 (mitre-attack/attack-navigator
 * layers/spec/v4.5/layerformat.md; its example is test/fixtures/reference/navigator/, and
 * test/navigator-validator.ts checks layers against the document's property tables).
 *
 * One technique object per ATT&CK technique the unsuppressed findings carry, scored by how many
 * findings and how severe (SCORE_WEIGHT, summed, at most 100), with a comment that counts them.
 * Techniques not in the shipped ATT&CK data (v18.1), or revoked or deprecated there, cannot be
 * shown by the Navigator: they are left out of `techniques` and named in the layer's metadata.
 * The `tactic` field is left out so a technique's annotation shows under each of its tactics.
 */

import type { ScanResult, Severity } from "../../model/finding.js";
import { sanitizeForTerminal } from "../../util/text.js";
import { safeText } from "../common.js";
import {
  ATTACK_VERSION,
  CLOUD_PLATFORMS,
  newFirst,
  SEVERITIES_DESC,
  severityCounts,
  techniqueRows,
} from "../digest.js";
import { writeJson } from "../json-writer.js";
import type { OutputFormat } from "../registry.js";

export const LAYER_VERSION = "4.5";
/** The Navigator release the layer is written for (4.5 layers need at least 4.9.0). */
export const NAVIGATOR_VERSION = "5.1.0";

/** What one finding adds to its techniques' scores. */
export const SCORE_WEIGHT: Readonly<Record<Severity, number>> = {
  critical: 50,
  high: 25,
  medium: 10,
  low: 5,
  informational: 1,
};
export const MAX_SCORE = 100;

/** Finding titles listed per technique in its metadata. */
const TITLES_PER_TECHNIQUE = 10;

/** Navigator shows these strings as text; they are still redacted, capped and put on one line. */
function text(s: string, max = 256): string {
  return sanitizeForTerminal(safeText(s, max));
}

export function navigatorLayer(result: ScanResult, toolVersion: string): Record<string, unknown> {
  const active = newFirst(result.findings).filter((f) => f.status !== "suppressed");
  const rows = techniqueRows(active);
  const shown = rows.filter((r) => r.current);
  const unknown = rows.filter((r) => !r.current);
  const techniques = shown.map((r) => {
    const score = Math.min(
      MAX_SCORE,
      SEVERITIES_DESC.reduce((sum, s) => sum + r.bySeverity[s] * SCORE_WEIGHT[s], 0),
    );
    const subs = r.subscriptions.size;
    const titles = [...new Set(active.filter((f) => f.attack.techniques.includes(r.id)).map((f) => text(f.title)))];
    return {
      techniqueID: r.id,
      score,
      comment: `${r.findings} ${r.findings === 1 ? "finding" : "findings"} (${severityCounts(r.bySeverity)}) in ${subs} ${subs === 1 ? "subscription" : "subscriptions"}`,
      enabled: true,
      metadata: [
        ...titles.slice(0, TITLES_PER_TECHNIQUE).map((t) => ({ name: "finding", value: t })),
        ...(titles.length > TITLES_PER_TECHNIQUE
          ? [{ name: "more", value: `${titles.length - TITLES_PER_TECHNIQUE} more finding titles` }]
          : []),
      ],
    };
  });
  const suppressed = result.findings.length - active.length;
  const metadata: Record<string, unknown>[] = [
    { name: "scan", value: text(result.id) },
    { name: "window", value: `${text(result.startedAt, 64)} → ${text(result.finishedAt, 64)}` },
    { name: "complete", value: result.complete ? "yes" : "no: some input was not read (see the JSON report)" },
    { name: "findings", value: `${active.length}${suppressed > 0 ? ` (${suppressed} suppressed, not scored)` : ""}` },
    { name: "tool", value: `azure-exec-audit ${text(toolVersion, 64)}` },
  ];
  if (unknown.length > 0) {
    metadata.push(
      { divider: true },
      { name: "not in ATT&CK v18.1", value: unknown.map((r) => text(r.id, 64)).join(", ") },
    );
  }
  return {
    name: `azure-exec-audit ${text(result.id, 128)}`,
    versions: { attack: ATTACK_VERSION, navigator: NAVIGATOR_VERSION, layer: LAYER_VERSION },
    domain: "enterprise-attack",
    description: text(
      `Azure code-execution findings by technique: score = ${SEVERITIES_DESC.map((s) => `${SCORE_WEIGHT[s]} per ${s}`).join(", ")}, at most ${MAX_SCORE}. Scan ${result.complete ? "complete" : "INCOMPLETE"}.`,
      1024,
    ),
    filters: { platforms: [...CLOUD_PLATFORMS] },
    sorting: 3,
    layout: {
      layout: "side",
      showID: true,
      showName: true,
      showAggregateScores: true,
      countUnscored: false,
      aggregateFunction: "max",
      expandedSubtechniques: "annotated",
    },
    hideDisabled: false,
    techniques,
    gradient: { colors: ["#fff7bc", "#fe9929", "#d7301f"], minValue: 0, maxValue: MAX_SCORE },
    legendItems: [
      { label: `one critical finding (${SCORE_WEIGHT.critical})`, color: "#fe9929" },
      { label: `${MAX_SCORE / SCORE_WEIGHT.critical} critical findings or more (${MAX_SCORE})`, color: "#d7301f" },
    ],
    showTacticRowBackground: true,
    tacticRowBackground: "#dddddd",
    selectTechniquesAcrossTactics: true,
    selectSubtechniquesWithParent: false,
    selectVisibleTechniques: false,
    metadata,
  };
}

export const navigatorFormat: OutputFormat = {
  name: "navigator",
  description: "an ATT&CK Navigator layer (format 4.5): techniques scored by findings and severity",
  fileExtension: "json",
  async render(result, ctx, out) {
    await writeJson(out, navigatorLayer(result, ctx.toolVersion));
  },
};
