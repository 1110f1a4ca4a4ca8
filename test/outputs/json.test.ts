import { describe, expect, it } from "vitest";
import { MAX_REPORT_STRING } from "../../src/outputs/common.js";
import { renderJson } from "../../src/outputs/json.js";
import { ESC, makeResult } from "./fixtures.js";

type Json = Record<string, unknown>;

function render() {
  const { result, secrets } = makeResult();
  const text = renderJson(result, { toolVersion: "0.1.0" });
  return { text, report: JSON.parse(text) as Json, result, secrets };
}

describe("renderJson", () => {
  it("has exactly the contract's top-level shape", () => {
    const { report, result } = render();
    expect(Object.keys(report)).toEqual(["schemaVersion", "tool", "scan", "findings"]);
    expect(report.schemaVersion).toBe("1");
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

  it("writes every finding field of the contract", () => {
    const { report, result } = render();
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

  it("redacts secrets in findings and coverage", () => {
    const { text, report, secrets } = render();
    for (const s of Object.values(secrets)) expect(text).not.toContain(s);
    const evidence = ((report.findings as Json[])[1]?.evidence ?? {}) as Json;
    expect(evidence.scriptUri).toMatch(/\?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=REDACTED$/);
    // A secret-named key (…CONNECTION…) is redacted whole; elsewhere only the key part goes.
    expect(evidence.connectionString).toBe("REDACTED");
    expect((evidence.appSettings as Json).AzureWebJobsStorage).toContain("AccountName=stprod;AccountKey=REDACTED;");
    expect((evidence.appSettings as Json).MY_API_KEY).toBe("REDACTED");
    expect((evidence.appSettings as Json).FUNCTIONS_WORKER_RUNTIME).toBe("powershell");
    const commandLine = (((report.findings as Json[])[0]?.evidence ?? {}) as Json).commandLine;
    expect(commandLine).toBe("net user backdoor REDACTED /add");
  });

  it("caps long evidence strings", () => {
    const { report } = render();
    const huge = (((report.findings as Json[])[2]?.evidence ?? {}) as Json).huge as string;
    expect(huge.length).toBeLessThanOrEqual(MAX_REPORT_STRING);
    expect(huge).toMatch(/…\[\+\d+ chars\]$/);
  });

  it("keeps hostile text as data (JSON-escaped, never raw control characters)", () => {
    const { text, report, result } = render();
    expect(text).not.toContain(ESC);
    expect((report.findings as Json[])[0]?.resourceId).toBe(result.findings[0]?.resourceId);
  });

  it("renders an empty scan", () => {
    const { result } = makeResult();
    const text = renderJson({ ...result, findings: [], coverage: [], complete: true }, { toolVersion: "1.2.3" });
    expect(JSON.parse(text)).toEqual({
      schemaVersion: "1",
      tool: { name: "azure-exec-audit", version: "1.2.3" },
      scan: { id: result.id, startedAt: result.startedAt, finishedAt: result.finishedAt, complete: true, coverage: [] },
      findings: [],
    });
  });
});
