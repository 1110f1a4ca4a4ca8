/**
 * `--format csv`: one row per finding for a spreadsheet (RFC 4180: every cell quoted, CRLF
 * between records, a header row). Cells come from the redacted, capped finding view; a cell a
 * spreadsheet would take for a formula gets a leading apostrophe (`csvCell`).
 */

import type { Finding } from "../../model/finding.js";
import { cap, csvCell } from "../../util/text.js";
import { principalLabel, safeFinding } from "../common.js";
import { statusLabel, subscriptionOf } from "../digest.js";
import type { OutputFormat } from "../registry.js";

export const CSV_COLUMNS = [
  "id",
  "severity",
  "status",
  "time",
  "title",
  "ruleId",
  "techniques",
  "tactics",
  "subscriptionId",
  "resourceId",
  "principal",
  "principalId",
  "principalType",
  "operation",
  "evidence",
  "detail",
  "suppression",
] as const;

/** Longest text of one cell: spreadsheets refuse cells past 32,767 characters. */
const MAX_CELL = 8 * 1024;

/** The one-cell summary of the evidence: the payload, the chain's steps, or what matched. */
function detail(f: Finding): string {
  const e = f.evidence;
  switch (e.kind) {
    case "payload":
      return e.payloads.map((p) => `${p.vector} ${p.path}: ${p.content}`).join("\n");
    case "chain":
      return e.steps.map((s) => `${s.time ?? ""} ${s.rule} ${s.operation ?? ""} ${s.resourceId}`.trim()).join("\n");
    case "grant":
      return `${e.grant.role}: ${e.grant.operations.join(", ")}${e.grant.condition ? `\ncondition: ${e.grant.condition}` : ""}`;
    default: {
      const pairs = Object.entries(e.matched ?? {}).map(
        ([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`,
      );
      if (e.kind === "roleAssignment" && e.assignment.condition) pairs.push(`condition=${e.assignment.condition}`);
      return pairs.join("\n");
    }
  }
}

export function csvRow(f: Finding): string {
  const s = safeFinding(f);
  const values = [
    s.id,
    s.severity,
    statusLabel(s),
    s.time,
    s.title,
    s.ruleId,
    s.attack.techniques.join(" "),
    s.attack.tactics.join(" "),
    subscriptionOf(s) ?? "",
    s.resourceId,
    principalLabel(s.principal),
    s.principal.id ?? "",
    s.principal.type ?? "",
    s.operation ?? "",
    s.evidence.kind,
    detail(s),
    s.suppression ? `${s.suppression.entry} until ${s.suppression.expires}: ${s.suppression.reason}` : "",
  ];
  return values.map((v) => csvCell(cap(v, MAX_CELL))).join(",");
}

export const csvFormat: OutputFormat = {
  name: "csv",
  description: "one row per finding for spreadsheets (RFC 4180, formula injection neutralised)",
  fileExtension: "csv",
  async render(result, _ctx, out) {
    await out.write(`${CSV_COLUMNS.map((c) => csvCell(c)).join(",")}\r\n`);
    for (const f of result.findings) await out.write(`${csvRow(f)}\r\n`);
  },
};
