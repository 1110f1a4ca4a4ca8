import { describe, expect, it } from "vitest";
import type { ScanResult } from "../../src/model/finding.js";
import { MAX_REPORT_STRING } from "../../src/outputs/common.js";
import { jsonFormat } from "../../src/outputs/formats/json.js";
import { renderToString } from "../../src/outputs/registry.js";
import { ESC, makeResult } from "./fixtures.js";

type Json = Record<string, unknown>;

function renderJson(result: ScanResult, meta: { toolVersion: string }): Promise<string> {
  return renderToString(jsonFormat, result, { ...meta, color: false });
}

async function render() {
  const { result, secrets } = makeResult();
  const text = await renderJson(result, { toolVersion: "0.1.0" });
  return { text, report: JSON.parse(text) as Json, result, secrets };
}

describe("renderJson", () => {
  it("has exactly the contract's top-level shape", async () => {
    const { report, result } = await render();
    expect(Object.keys(report)).toEqual(["schemaVersion", "tool", "scan", "findings"]);
    expect(report.schemaVersion).toBe("3");
    expect(report.tool).toEqual({ name: "azure-exec-audit", version: "0.1.0" });
    const scan = report.scan as Json;
    expect(Object.keys(scan)).toEqual(["id", "startedAt", "finishedAt", "complete", "coverage"]);
    expect(scan.id).toBe(result.id);
    expect(scan.startedAt).toBe(result.startedAt);
    expect(scan.finishedAt).toBe(result.finishedAt);
    expect(scan.complete).toBe(false);
    const coverage = scan.coverage as Json[];
    expect(coverage).toHaveLength(3);
    expect(coverage[0]).toEqual(result.coverage[0]);
    for (const c of coverage) {
      for (const k of ["source", "scope", "status", "records"]) expect(c).toHaveProperty(k);
    }
    expect(report).not.toHaveProperty("rules");
  });

  it("writes every finding field of the contract", async () => {
    const { report, result } = await render();
    const findings = report.findings as Json[];
    expect(findings).toHaveLength(result.findings.length);
    const [first, second, third] = findings;
    expect(Object.keys(first ?? {})).toEqual([
      "id",
      "ruleId",
      "title",
      "severity",
      "attack",
      "atrm",
      "subscriptionId",
      "resourceId",
      "principal",
      "time",
      "operation",
      "status",
      "evidence",
    ]);
    expect(first?.attack).toEqual({ tactics: ["execution"], techniques: ["T1651"] });
    expect(first?.atrm).toEqual(["AZT301.1"]);
    expect(first?.principal).toEqual(result.findings[0]?.principal);
    expect(((first?.evidence ?? {}) as Json).records).toEqual([
      { kind: "activity", id: "evt-1", location: "activity.jsonl", index: 3 },
    ]);
    // Optional fields are omitted, not null.
    expect(third).not.toHaveProperty("subscriptionId");
    expect(third).not.toHaveProperty("atrm");
    expect(third?.principal).toEqual({});
    expect(second?.principal).toEqual({ type: "ServicePrincipal", appId: "22222222-2222-2222-2222-222222222222" });
  });

  it("redacts secrets in findings and coverage", async () => {
    const { text, report, secrets } = await render();
    for (const s of Object.values(secrets)) expect(text).not.toContain(s);
    const evidence = (((report.findings as Json[])[1]?.evidence ?? {}) as Json).matched as Json;
    expect(evidence.scriptUri).toMatch(/\?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=REDACTED$/);
    // A secret-named key (…CONNECTION…) is redacted whole; elsewhere only the key part goes.
    expect(evidence.connectionString).toBe("REDACTED");
    expect((evidence.appSettings as Json).AzureWebJobsStorage).toContain("AccountName=stprod;AccountKey=REDACTED;");
    expect((evidence.appSettings as Json).MY_API_KEY).toBe("REDACTED");
    expect((evidence.appSettings as Json).FUNCTIONS_WORKER_RUNTIME).toBe("powershell");
    const commandLine = ((((report.findings as Json[])[0]?.evidence ?? {}) as Json).matched as Json).commandLine;
    expect(commandLine).toBe("net user backdoor REDACTED /add");
  });

  it("caps long evidence strings", async () => {
    const { report } = await render();
    const huge = ((((report.findings as Json[])[2]?.evidence ?? {}) as Json).matched as Json).huge as string;
    expect(huge.length).toBeLessThanOrEqual(MAX_REPORT_STRING);
    expect(huge).toMatch(/…\[\+\d+ chars\]$/);
  });

  it("keeps hostile text as data (JSON-escaped, never raw control characters)", async () => {
    const { text, report, result } = await render();
    expect(text).not.toContain(ESC);
    expect((report.findings as Json[])[0]?.resourceId).toBe(result.findings[0]?.resourceId);
  });

  it("renders an empty scan", async () => {
    const { result } = makeResult();
    const text = await renderJson({ ...result, findings: [], coverage: [], complete: true }, { toolVersion: "1.2.3" });
    expect(JSON.parse(text)).toEqual({
      schemaVersion: "3",
      tool: { name: "azure-exec-audit", version: "1.2.3" },
      scan: { id: result.id, startedAt: result.startedAt, finishedAt: result.finishedAt, complete: true, coverage: [] },
      findings: [],
    });
  });
});

describe("renderJson diagnostics and evidence kinds", () => {
  it("lists diagnostic messages as scan.notes and the diagnostics themselves after them", async () => {
    const { result, secrets } = makeResult();
    const diagnostics: ScanResult["diagnostics"] = [
      {
        code: "rule/skipped",
        message: "rule skipped: rules/bad.yml:3: detection needs a condition",
        location: { file: "rules/bad.yml", line: 3 },
      },
      {
        code: "rule/needs-history",
        message: "rule AEA-FS-001 (New caller IP) needs 7 days of history; the window has 2",
        ruleId: "AEA-FS-001",
      },
      {
        code: "input/file-unreadable",
        message: `cannot read https://st.blob.core.windows.net/c/x.json?sv=1&sig=${secrets.coverageSig}: ${"x".repeat(20_000)}`,
        location: { url: `https://st.blob.core.windows.net/c/x.json?sv=1&sig=${secrets.coverageSig}` },
      },
    ];
    const text = await renderJson({ ...result, diagnostics }, { toolVersion: "0.1.0" });
    expect(text).not.toContain(secrets.coverageSig);
    const scan = (JSON.parse(text) as Json).scan as Json;
    expect(Object.keys(scan)).toEqual([
      "id",
      "startedAt",
      "finishedAt",
      "complete",
      "coverage",
      "notes",
      "diagnostics",
    ]);
    const notes = scan.notes as string[];
    expect(notes.slice(0, 2)).toEqual([diagnostics[0]?.message, diagnostics[1]?.message]);
    expect(notes[2]).toContain("sig=REDACTED");
    expect(notes[2]?.length).toBeLessThanOrEqual(MAX_REPORT_STRING);
    const listed = scan.diagnostics as Json[];
    expect(listed[0]).toEqual(diagnostics[0]);
    expect(listed[1]).toEqual(diagnostics[1]);
    expect(Object.keys(listed[1] ?? {})).toEqual(["code", "message", "ruleId"]);
    expect(listed[2]?.message).toBe(notes[2]);
    expect(listed[2]?.location).toEqual({ url: "https://st.blob.core.windows.net/c/x.json?sv=1&sig=REDACTED" });
  });

  it("keeps each finding's evidence kind", async () => {
    const { report } = await render();
    const kinds = (report.findings as Json[]).map((f) => (f.evidence as Json).kind);
    expect(kinds).toEqual(["activity", "configuration", "payload"]);
  });

  it("streams the report in pieces that add up to one indented JSON document", async () => {
    const { result } = makeResult();
    const chunks: string[] = [];
    await jsonFormat.render(
      result,
      { toolVersion: "0.1.0", color: false, options: {} },
      {
        write: async (chunk) => {
          chunks.push(chunk);
        },
      },
    );
    const text = chunks.join("");
    // Byte for byte what a single JSON.stringify gives, so streaming changed nothing for readers.
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    // Each finding is written on its own, not the report as one string.
    for (const f of result.findings) expect(chunks.filter((c) => c.includes(`"id": "${f.id}"`))).toHaveLength(1);
    expect(chunks.find((c) => c.includes('"schemaVersion"'))).not.toContain('"ruleId"');
  });

  it("writes the empty findings list as []", async () => {
    const { result } = makeResult();
    const text = await renderJson({ ...result, findings: [] }, { toolVersion: "0.1.0" });
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    expect(text).toContain('"findings": []');
  });
});
