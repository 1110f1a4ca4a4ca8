/**
 * `--format html`: one self-contained page that works offline — a summary, the Execution-tactic
 * heat map (techniques × subscriptions), the attack-chain timeline, a filterable findings table
 * with each finding's evidence and recovered payloads, and the coverage.
 *
 * Safety: every string from the data is redacted and capped (common.ts), stripped of control
 * characters and HTML-escaped before it is written; payloads are shown as text in <pre>. The
 * page's Content-Security-Policy allows no network at all and only the page's own script and
 * style, by SHA-256 hash: an injected <script> or event handler would not run even if escaping
 * failed. The script reads the page and hides rows; it never builds HTML from data.
 */

import { createHash } from "node:crypto";
import type { ChainEvidence, CoverageEntry, Finding, ScanResult, Severity } from "../../model/finding.js";
import { severityRank } from "../../model/finding.js";
import { escapeHtml, sanitizeForTerminal, sanitizeMultiline } from "../../util/text.js";
import { countBySeverity, principalLabel, safeCoverage, safeFinding, safeText, shortResource } from "../common.js";
import {
  chainSummary,
  executionTechniques,
  isNew,
  newFirst,
  SEVERITIES_DESC,
  severityCounts,
  statusLabel,
  subscriptionOf,
  subscriptions,
  type TechniqueRow,
  techniqueRows,
} from "../digest.js";
import type { OutputFormat } from "../registry.js";
import type { OutputSink } from "../sink.js";

/** Findings listed in the table at most (the JSON report has them all). */
export const MAX_HTML_FINDINGS = 5000;
/** Findings on the all-findings timeline at most. */
const MAX_TIMELINE = 200;
/** Payload text shown per payload. */
const MAX_PAYLOAD = 16 * 1024;

/** One line of attacker-controlled text as HTML. */
function h(s: string, max = 512): string {
  return escapeHtml(sanitizeForTerminal(safeText(s, max)));
}

/** Several lines (a script, evidence JSON) as HTML text for a <pre>. */
function pre(s: string, max = MAX_PAYLOAD): string {
  return escapeHtml(sanitizeMultiline(safeText(s, max)));
}

function displayTime(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(t);
  return m ? `${m[1]} ${m[2]}` : t;
}

function badge(s: Severity): string {
  return `<span class="sev sev-${s}">${s}</span>`;
}

function subscriptionLabel(id: string): string {
  return id === "" ? "(no subscription)" : id;
}

/** Minutes and hours after the first step, for the timeline. */
function offset(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return "";
  const m = Math.round(ms / 60000);
  if (m < 60) return `+${m} min`;
  const hours = Math.floor(m / 60);
  return `+${hours} h ${m % 60} min`;
}

const STYLE = `
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--accent:#1e3a8a;
--critical:#991b1b;--high:#c2410c;--medium:#a16207;--low:#1d4ed8;--informational:#4b5563}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:var(--accent);color:#fff;padding:24px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .meta{opacity:.85;font-size:13px}
main{max-width:1280px;margin:0 auto;padding:24px 32px 48px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:20px 24px;margin:0 0 20px}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:15px;margin:16px 0 8px}
.lede{font-size:16px;margin:0 0 16px}
.banner{border-radius:6px;padding:10px 14px;margin:0 0 16px;font-weight:500}
.banner.bad{background:#fef2f2;border:1px solid #fecaca;color:#991b1b}
.banner.good{background:#f0fdf4;border:1px solid #bbf7d0;color:#166534}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:12px}
.kpi{border:1px solid var(--line);border-radius:6px;padding:12px 14px}
.kpi .n{font-size:26px;font-weight:650;line-height:1.1}
.kpi .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi.critical .n{color:var(--critical)}.kpi.high .n{color:var(--high)}.kpi.medium .n{color:var(--medium)}.kpi.low .n{color:var(--low)}
.sev{display:inline-block;border-radius:4px;padding:1px 7px;font-size:12px;font-weight:600;color:#fff;text-transform:capitalize}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}.sev-medium{background:var(--medium)}
.sev-low{background:var(--low)}.sev-informational{background:var(--informational)}
.tag{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 5px;margin:0 2px 2px 0;font-size:12px;background:#f9fafb}
.new{background:#fef9c3;border-color:#fde047}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
td.res{word-break:break-all}
.matrix td.heat{text-align:center;min-width:90px;font-weight:600}
.matrix td.heat button{all:unset;cursor:pointer;display:block;width:100%}
.heat.none{color:#cbd5e1}
.heat.sev-critical{background:#fecaca;color:var(--critical)}.heat.sev-high{background:#fed7aa;color:var(--high)}
.heat.sev-medium{background:#fef08a;color:var(--medium)}.heat.sev-low{background:#bfdbfe;color:var(--low)}
.heat.sev-informational{background:#e5e7eb;color:var(--informational)}
.matrix tr.group th{background:#f1f5f9;color:var(--ink)}
.matrix thead th.mono{text-transform:none}
.matrix th.rowh{text-transform:none;letter-spacing:0;font-size:13px;color:var(--ink);font-weight:500}
.chain{border:1px solid var(--line);border-left:4px solid var(--critical);border-radius:6px;padding:12px 16px;margin:0 0 12px}
.chain.chain-high{border-left-color:var(--high)}.chain.chain-medium{border-left-color:var(--medium)}.chain.chain-low,.chain.chain-informational{border-left-color:var(--low)}
.chain h3{margin:0 0 8px}
ol.timeline{list-style:none;margin:0;padding:0 0 0 18px;border-left:2px solid var(--line)}
ol.timeline li{position:relative;margin:0 0 10px;padding-left:10px}
ol.timeline li::before{content:"";position:absolute;left:-25px;top:5px;width:10px;height:10px;border-radius:50%;background:var(--accent)}
.when{color:var(--muted);font-size:12px}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:0 0 12px}
.controls input[type=search]{flex:1;min-width:240px;padding:7px 10px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
.controls select{padding:6px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
#shown{color:var(--muted)}
tbody.finding tr.row td{border-bottom:none}
tbody.finding tr.more td{padding-top:0}
details summary{cursor:pointer;color:var(--accent);font-size:13px}
details pre{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-all}
.scroll{overflow-x:auto}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
.kv dt{color:var(--muted)}.kv dd{margin:0;word-break:break-all}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 32px}
@media print{header{background:#fff;color:var(--ink)}section{break-inside:avoid}.controls{display:none}}
`;

const SCRIPT = `
(function () {
  "use strict";
  var q = document.getElementById("filter");
  var sev = document.getElementById("min-severity");
  var fresh = document.getElementById("new-only");
  var shown = document.getElementById("shown");
  var groups = Array.prototype.slice.call(document.querySelectorAll("tbody.finding"));
  var text = groups.map(function (g) { return g.textContent.toLowerCase(); });
  function apply() {
    var needle = q.value.trim().toLowerCase();
    var min = Number(sev.value);
    var n = 0;
    groups.forEach(function (g, i) {
      var ok = (needle === "" || text[i].indexOf(needle) !== -1) &&
        Number(g.getAttribute("data-rank")) >= min &&
        (!fresh.checked || g.getAttribute("data-new") === "1");
      g.hidden = !ok;
      if (ok) n += 1;
    });
    shown.textContent = n + " of " + groups.length + " shown";
  }
  q.addEventListener("input", apply);
  sev.addEventListener("change", apply);
  fresh.addEventListener("change", apply);
  Array.prototype.forEach.call(document.querySelectorAll("[data-technique]"), function (b) {
    b.addEventListener("click", function () {
      q.value = b.getAttribute("data-technique");
      apply();
      document.getElementById("findings").scrollIntoView();
    });
  });
  apply();
})();
`;

function sha256(s: string): string {
  return `'sha256-${createHash("sha256").update(s, "utf8").digest("base64")}'`;
}

/** No network, no plugins, no forms; only this page's own script and style run. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

function summarySection(result: ScanResult): string {
  const active = result.findings.filter((f) => f.status !== "suppressed");
  const counts = countBySeverity(active);
  const fresh = active.filter(isNew).length;
  const subs = new Set(active.map((f) => subscriptionOf(f) ?? ""));
  const chains = active.filter((f) => f.evidence.kind === "chain");
  const records = result.coverage.reduce((n, c) => n + c.records, 0);
  const problems = result.coverage.filter((c) => c.status !== "complete");
  const out: string[] = ['<section id="summary"><h2>Summary</h2>'];
  const worst = SEVERITIES_DESC.find((s) => counts[s] > 0);
  const lede =
    active.length === 0
      ? "No code execution was found in what was read."
      : `${active.length} ${active.length === 1 ? "finding" : "findings"} of code execution in ${subs.size} ${subs.size === 1 ? "subscription" : "subscriptions"}` +
        (worst ? `, the most severe <strong>${worst}</strong>` : "") +
        (chains.length > 0
          ? `; ${chains.length} attack ${chains.length === 1 ? "chain links" : "chains link"} several steps into one story (see the timeline).`
          : ".");
  out.push(`<p class="lede">${lede}</p>`);
  if (result.complete) {
    out.push(`<div class="banner good">The scan is complete: every source in the coverage list was read.</div>`);
  } else {
    out.push(
      `<div class="banner bad">The scan is INCOMPLETE: ${problems.length > 0 ? `${problems.length} of ${result.coverage.length} sources were` : "some input was"} not read completely (see Coverage). No finding there is not evidence of absence.</div>`,
    );
  }
  const kpi = (n: number, label: string, cls = ""): string =>
    `<div class="kpi ${cls}"><div class="n">${n}</div><div class="l">${label}</div></div>`;
  out.push(
    '<div class="kpis">',
    kpi(active.length, "findings"),
    ...SEVERITIES_DESC.filter((s) => s !== "informational" || counts[s] > 0).map((s) => kpi(counts[s], s, s)),
    // Without a state store or a baseline nothing is new or old: no count to show.
    ...(active.some((f) => f.status !== undefined || f.baseline !== undefined) ? [kpi(fresh, "new")] : []),
    kpi(chains.length, "attack chains"),
    kpi(subs.size, "subscriptions"),
    kpi(records, "records read"),
    "</div>",
  );
  const critical = newFirst(active).filter((f) => severityRank(f.severity) >= severityRank("high"));
  if (critical.length > 0) {
    out.push("<h3>Act on these first</h3><ul>");
    for (const f of critical.slice(0, 8))
      out.push(
        `<li>${badge(f.severity)} ${h(f.title)} — <span class="mono">${h(shortResource(f.resourceId))}</span> by <span class="mono">${h(principalLabel(f.principal))}</span>, ${h(displayTime(f.time), 64)} UTC</li>`,
      );
    if (critical.length > 8) out.push(`<li>… and ${critical.length - 8} more high or critical findings below.</li>`);
    out.push("</ul>");
  }
  out.push("</section>");
  return out.join("\n");
}

function heatCell(row: TechniqueRow | undefined, sub: string): string {
  const c = row?.subscriptions.get(sub);
  if (!row || !c) return '<td class="heat none">·</td>';
  const title = `${c.count} ${c.count === 1 ? "finding" : "findings"}, highest ${c.highest}`;
  return `<td class="heat sev-${c.highest}" title="${escapeHtml(title)}"><button type="button" data-technique="${h(row.id, 32)}">${c.count}</button></td>`;
}

function matrixSection(result: ScanResult): string {
  const subs = subscriptions(result);
  const rows = new Map(techniqueRows(result.findings).map((r) => [r.id, r]));
  const execution = executionTechniques();
  const executionIds = new Set(execution.map((t) => t.id));
  const others = [...rows.values()].filter((r) => !executionIds.has(r.id));
  const cols = subs.length === 0 ? [""] : subs;
  const out = [
    '<section id="matrix"><h2>Execution-tactic heat map</h2>',
    `<p>ATT&amp;CK Execution techniques on the cloud platforms (IaaS, Containers, Identity Provider) × subscriptions: the number of findings, coloured by the most severe. Click a number to filter the findings.</p>`,
    '<div class="scroll"><table class="matrix"><thead><tr><th>Technique</th>',
    ...cols.map((s) => `<th class="mono">${h(subscriptionLabel(s), 64)}</th>`),
    "<th>Total</th></tr></thead><tbody>",
  ];
  const line = (id: string, name: string | undefined): void => {
    const row = rows.get(id);
    out.push(
      `<tr><th scope="row" class="rowh"><span class="mono">${h(id, 32)}</span> ${name ? h(name, 128) : '<span class="when">not in ATT&amp;CK v18.1</span>'}</th>`,
      ...cols.map((s) => heatCell(row, s)),
      `<td class="heat ${row ? `sev-${row.highest}` : "none"}">${row ? row.findings : "·"}</td></tr>`,
    );
  };
  out.push(`<tr class="group"><th colspan="${cols.length + 2}">Execution</th></tr>`);
  for (const t of execution) line(t.id, t.name);
  if (others.length > 0) {
    out.push(`<tr class="group"><th colspan="${cols.length + 2}">Other techniques in the findings</th></tr>`);
    for (const r of others) line(r.id, r.name);
  }
  out.push("</tbody></table></div></section>");
  return out.join("\n");
}

function timelineSection(result: ScanResult, anchors: Map<string, number>): string {
  const active = result.findings.filter((f) => f.status !== "suppressed");
  const chains = active
    .filter((f): f is Finding & { evidence: ChainEvidence } => f.evidence.kind === "chain")
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const out = ['<section id="timeline"><h2>Attack-chain timeline</h2>'];
  if (chains.length === 0) out.push("<p>No attack chain (a correlation of several steps) was found.</p>");
  for (const f of chains) {
    const e = safeFinding(f).evidence as ChainEvidence;
    const first = e.steps.find((s) => s.time)?.time ?? f.time;
    const link = anchors.has(f.id) ? ` <a href="#f-${anchors.get(f.id)}">details</a>` : "";
    out.push(
      `<div class="chain chain-${f.severity}"><h3>${badge(f.severity)} ${h(f.title)}${link}</h3>`,
      `<div class="when">${h(chainSummary(e))}, by <span class="mono">${h(principalLabel(f.principal))}</span></div>`,
      '<ol class="timeline">',
    );
    for (const s of e.steps) {
      const when = s.time
        ? `${h(displayTime(s.time), 64)} UTC <strong>${offset(first, s.time)}</strong>`
        : "time unknown";
      out.push(
        `<li><div class="when">${when}</div>${h(s.rule)}${s.operation ? ` <code>${h(s.operation, 256)}</code>` : ""} on <span class="mono">${h(shortResource(s.resourceId))}</span>${s.principal ? ` by <span class="mono">${h(s.principal)}</span>` : ""}</li>`,
      );
    }
    if ((e.stepCount ?? 0) > e.steps.length) out.push(`<li>… ${(e.stepCount ?? 0) - e.steps.length} more steps</li>`);
    out.push("</ol></div>");
  }
  const ordered = [...active].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  if (ordered.length > 0) {
    out.push("<h3>All findings in time order</h3>", '<ol class="timeline">');
    for (const f of ordered.slice(0, MAX_TIMELINE)) {
      const n = anchors.get(f.id);
      out.push(
        `<li><div class="when">${h(displayTime(f.time), 64)} UTC</div>${badge(f.severity)} ${n !== undefined ? `<a href="#f-${n}">${h(f.title)}</a>` : h(f.title)} <span class="mono">${h(shortResource(f.resourceId))}</span></li>`,
      );
    }
    if (ordered.length > MAX_TIMELINE) out.push(`<li>… ${ordered.length - MAX_TIMELINE} more</li>`);
    out.push("</ol>");
  }
  out.push("</section>");
  return out.join("\n");
}

function tags(values: readonly string[], max = 32): string {
  return values.map((v) => `<span class="tag">${h(v, max)}</span>`).join("");
}

/** The evidence of one finding, collapsed: payloads as text, then the whole evidence as JSON. */
function evidenceBlock(f: Finding): string {
  const safe = safeFinding(f);
  const e = safe.evidence;
  const out = ["<details><summary>Evidence</summary>", '<dl class="kv">'];
  const kv = (k: string, v: string): void => {
    out.push(`<dt>${k}</dt><dd>${v}</dd>`);
  };
  kv("Resource", `<span class="mono">${h(safe.resourceId, 2048)}</span>`);
  kv(
    "Principal",
    `<span class="mono">${h(principalLabel(safe.principal))}</span>${safe.principal.type ? ` (${h(safe.principal.type, 64)})` : ""}${safe.principal.appId ? ` app <span class="mono">${h(safe.principal.appId, 64)}</span>` : ""}`,
  );
  if (safe.operation) kv("Operation", `<code>${h(safe.operation, 256)}</code>`);
  kv("Rule", `<span class="mono">${h(safe.ruleId, 128)}</span>`);
  kv("Finding id", `<span class="mono">${h(safe.id, 128)}</span>`);
  if (safe.atrm && safe.atrm.length > 0) kv("Azure Threat Research Matrix", tags(safe.atrm));
  if (safe.suppression)
    kv(
      "Suppressed",
      `by <span class="mono">${h(safe.suppression.entry)}</span> until ${h(safe.suppression.expires, 64)}: ${h(safe.suppression.reason)}`,
    );
  out.push("</dl>");
  if (e.kind === "payload") {
    for (const p of e.payloads) {
      out.push(
        `<h3>Recovered ${h(p.kind, 32)} — ${h(p.vector)} <code>${h(p.path)}</code>${p.truncated ? " (truncated)" : ""}</h3>`,
        `<pre class="payload">${pre(p.content)}</pre>`,
      );
    }
  }
  out.push("<h3>Evidence record</h3>", `<pre>${pre(JSON.stringify(e, null, 2), 64 * 1024)}</pre>`, "</details>");
  return out.join("\n");
}

function findingGroup(n: number, f: Finding): string {
  const fresh = isNew(f);
  const status = statusLabel(f);
  return [
    `<tbody class="finding" id="f-${n}" data-rank="${severityRank(f.severity)}" data-new="${fresh ? 1 : 0}">`,
    '<tr class="row">',
    `<td>${badge(f.severity)}</td>`,
    `<td>${status ? `<span class="tag${fresh ? " new" : ""}">${h(status, 32)}</span>` : ""}</td>`,
    `<td class="mono">${h(displayTime(f.time), 64)}</td>`,
    `<td>${tags(f.attack.techniques)}</td>`,
    `<td>${h(f.title)}</td>`,
    `<td class="res mono">${h(shortResource(f.resourceId))}</td>`,
    `<td class="mono">${h(principalLabel(f.principal))}</td>`,
    "</tr>",
    `<tr class="more"><td></td><td colspan="6">${evidenceBlock(f)}</td></tr>`,
    "</tbody>",
  ].join("\n");
}

function coverageSection(result: ScanResult): string {
  const out = ['<section id="coverage"><h2>Coverage</h2>'];
  if (result.coverage.length === 0) out.push("<p>No sources were read.</p>");
  else {
    out.push(
      "<table><thead><tr><th>Status</th><th>Source</th><th>Scope</th><th>Window</th><th>Records</th><th>Reason</th></tr></thead><tbody>",
    );
    for (const c of result.coverage) {
      const s: CoverageEntry = safeCoverage(c);
      const window = s.from || s.to ? `${h(s.from ?? "…", 64)} → ${h(s.to ?? "…", 64)}` : "";
      out.push(
        `<tr><td><span class="tag${s.status === "complete" ? "" : " new"}">${h(s.status, 16)}</span></td><td>${h(s.source, 32)}</td><td class="res mono">${h(s.scope, 1024)}</td><td class="mono">${window}</td><td>${s.records}${s.unreadable ? ` (${s.unreadable} unreadable)` : ""}</td><td>${s.reason ? h(s.reason, 2048) : ""}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
  }
  const unseen = result.notObservable ?? [];
  if (unseen.length > 0) {
    out.push(
      `<p>${unseen.length} execution vectors leave no record this tool reads, so silence there is not evidence of absence:</p><ul>`,
      ...unseen.map((v) => `<li>${h(v.name, 256)} <span class="tag">${h(v.technique, 32)}</span></li>`),
      "</ul>",
    );
  }
  out.push("</section>");
  return out.join("\n");
}

async function renderHtml(result: ScanResult, toolVersion: string, out: OutputSink): Promise<void> {
  const ordered = newFirst(result.findings);
  const listed = ordered.slice(0, MAX_HTML_FINDINGS);
  const anchors = new Map(listed.map((f, i) => [f.id, i + 1]));
  const active = result.findings.filter((f) => f.status !== "suppressed");
  await out.write(
    [
      "<!doctype html>",
      '<html lang="en"><head><meta charset="utf-8">',
      `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
      '<meta name="referrer" content="no-referrer">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>Azure code-execution audit — ${h(result.id, 128)}</title>`,
      `<style>${STYLE}</style>`,
      "</head><body>",
      "<header><h1>Azure code-execution audit</h1>",
      `<div class="meta">Scan <span class="mono">${h(result.id, 128)}</span> · ${h(displayTime(result.startedAt), 64)} → ${h(displayTime(result.finishedAt), 64)} UTC · ${active.length} findings (${severityCounts(countBySeverity(active))}) · azure-exec-audit ${h(toolVersion, 64)}</div></header>`,
      "<main>",
      summarySection(result),
      matrixSection(result),
      timelineSection(result, anchors),
      '<section id="findings"><h2>Findings</h2>',
      '<div class="controls"><input type="search" id="filter" placeholder="Filter: text, technique, resource, principal, payload…" aria-label="Filter findings">',
      '<label>Severity at least <select id="min-severity"><option value="0">any</option>',
      ...SEVERITIES_DESC.slice(0, 4)
        .reverse()
        .map((s) => `<option value="${severityRank(s)}">${s}</option>`),
      "</select></label>",
      '<label><input type="checkbox" id="new-only"> new only</label>',
      '<span id="shown"></span></div>',
      '<table class="findings"><thead><tr><th>Severity</th><th>Status</th><th>Time (UTC)</th><th>Technique</th><th>Finding</th><th>Resource</th><th>Principal</th></tr></thead>',
      "",
    ].join("\n"),
  );
  for (const [i, f] of listed.entries()) await out.write(`${findingGroup(i + 1, f)}\n`);
  await out.write(
    [
      "</table>",
      ordered.length === 0 ? "<p>No findings.</p>" : "",
      ordered.length > listed.length
        ? `<p>${ordered.length - listed.length} more findings are not listed here; the JSON report (<code>--format json</code>) has them all.</p>`
        : "",
      "</section>",
      coverageSection(result),
      "</main>",
      `<footer>Generated by azure-exec-audit ${h(toolVersion, 64)}. Secrets are redacted; payloads are shown as text and never run. This page loads nothing from the network.</footer>`,
      `<script>${SCRIPT}</script>`,
      "</body></html>",
      "",
    ].join("\n"),
  );
}

export const htmlFormat: OutputFormat = {
  name: "html",
  description: "one self-contained HTML page: summary, heat map, chain timeline, filterable findings",
  fileExtension: "html",
  async render(result, ctx, out) {
    await renderHtml(result, ctx.toolVersion, out);
  },
};
