import { describe, expect, it } from "vitest";
import { FINGERPRINT_KEY, renderSarif, toRepoRelativeUri } from "../../src/outputs/sarif.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";
import { ESC, makeResult } from "./fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate parsed SARIF freely.
type Json = Record<string, any>;

const validate = validateSarif;

function render(artifactUri?: string) {
  const { result, secrets } = makeResult();
  const text = renderSarif(result, { toolVersion: "0.1.0", ...(artifactUri ? { artifactUri } : {}) });
  return { text, log: JSON.parse(text) as Json, result, secrets };
}

function errors(): string {
  return sarifErrors();
}

describe("renderSarif", () => {
  it("validates against the SARIF 2.1.0 schema", () => {
    const { log } = render();
    expect(validate(log), errors()).toBe(true);
  });

  it("the validator really rejects broken SARIF", () => {
    const { log } = render();
    const broken: Json[] = [
      { ...log, version: "2.0.0" },
      { ...log, runs: undefined },
      { ...log, runs: [{ ...log.runs[0], tool: {} }] },
      { ...log, runs: [{ ...log.runs[0], results: [{ ...log.runs[0].results[0], level: "fatal" }] }] },
      { ...log, runs: [{ ...log.runs[0], results: [{ ...log.runs[0].results[0], message: {} }] }] },
      {
        ...log,
        runs: [{ ...log.runs[0], invocations: [{ ...log.runs[0].invocations[0], startTimeUtc: "yesterday" }] }],
      },
    ];
    for (const doc of broken) expect(validate(JSON.parse(JSON.stringify(doc)))).toBe(false);
  });

  it("describes the tool and its rules as GitHub code scanning expects", () => {
    const { log, result } = render();
    expect(log.$schema).toBe("https://json.schemastore.org/sarif-2.1.0.json");
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const driver = log.runs[0].tool.driver;
    expect(driver.name).toBe("azure-exec-audit");
    expect(driver.version).toBe("0.1.0");
    expect(driver.informationUri).toBe("https://github.com/azure-exec-audit/azure-exec-audit");
    const ids = driver.rules.map((r: Json) => r.id);
    // Listed rules first, then a synthesised rule for a finding whose rule was not listed.
    expect(ids).toEqual(["AEA-VM-001", "AEA-FUNC-002", "AEA-ACI-003"]);
    for (const rule of driver.rules as Json[]) {
      expect(rule.name).toMatch(/^[A-Za-z0-9]+$/);
      expect(rule.shortDescription.text.length).toBeGreaterThan(0);
      expect(rule.fullDescription.text.length).toBeGreaterThan(0);
      expect(typeof rule.help.text).toBe("string");
      expect(typeof rule.help.markdown).toBe("string");
      const sev = rule.properties["security-severity"];
      expect(typeof sev).toBe("string");
      expect(sev).toMatch(/^\d+\.\d$/);
      expect(Number(sev)).toBeGreaterThanOrEqual(0);
      expect(Number(sev)).toBeLessThanOrEqual(10);
      expect(rule.properties.tags[0]).toBe("security");
      expect(["very-high", "high", "medium", "low"]).toContain(rule.properties.precision);
    }
    const [vm, func, aci] = driver.rules as Json[];
    expect(vm?.defaultConfiguration.level).toBe("error");
    expect(vm?.properties["security-severity"]).toBe("8.0");
    expect(vm?.properties.tags).toEqual(["security", "T1651"]);
    expect(vm?.properties.precision).toBe("medium");
    expect(vm?.helpUri).toBe(result.rules[0]?.references?.[0]);
    expect(func?.properties["security-severity"]).toBe("9.5");
    expect(aci?.defaultConfiguration.level).toBe("warning");
    expect(aci?.properties["security-severity"]).toBe("5.5");
    expect(aci?.properties.tags).toEqual(["security", "T1610", "T1059.004"]);
  });

  it("gives every result a repo-relative physical location, line 1, and the ARM id", () => {
    const { log, result } = render();
    const results = log.runs[0].results as Json[];
    expect(results).toHaveLength(result.findings.length);
    results.forEach((r, i) => {
      const f = result.findings[i];
      const loc = r.locations[0];
      const uri: string = loc.physicalLocation.artifactLocation.uri;
      expect(uri).toBe(".github/azure-exec-audit.yml");
      expect(uri.startsWith("/")).toBe(false);
      expect(URL.canParse(uri)).toBe(false); // relative: no scheme
      expect(loc.physicalLocation.region.startLine).toBe(1);
      expect(loc.logicalLocations[0].kind).toBe("resource");
      expect(loc.logicalLocations[0].fullyQualifiedName.startsWith("/subscriptions/")).toBe(true);
      expect(r.ruleId).toBe(f?.ruleId);
      expect(log.runs[0].tool.driver.rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(r.partialFingerprints[FINGERPRINT_KEY]).toBe(f?.id);
      expect(r.properties.severity).toBe(f?.severity);
      expect(r.properties.records).toEqual(f?.evidence.records);
    });
    expect(results.map((r) => r.level)).toEqual(["error", "error", "warning"]);
    expect(results[1]?.locations[0].logicalLocations[0]).toEqual({
      name: "func-orders",
      fullyQualifiedName: result.findings[1]?.resourceId,
      kind: "resource",
    });
  });

  it("has stable fingerprints across renders", () => {
    const a = render().log.runs[0].results.map((r: Json) => r.partialFingerprints);
    const b = render().log.runs[0].results.map((r: Json) => r.partialFingerprints);
    expect(a).toEqual(b);
    expect(new Set(a.map((p: Json) => p[FINGERPRINT_KEY])).size).toBe(a.length);
  });

  it("puts title, resource, principal and time in a sanitised, redacted message", () => {
    const { text, log, secrets } = render();
    for (const s of Object.values(secrets)) expect(text).not.toContain(s);
    expect(text).not.toContain(ESC);
    const msg: string = log.runs[0].results[0].message.text;
    expect(msg).toContain("VM run command");
    expect(msg).toContain("executed");
    expect(msg).toContain("mallory@contoso.example");
    expect(msg).toContain("2024-05-01T10:00:00Z");
    expect(msg).toContain("vm-web-01");
    expect(msg).not.toMatch(/[\n\r]/);
    // A principal without a name falls back to its app id.
    expect(log.runs[0].results[1].message.text).toContain("22222222-2222-2222-2222-222222222222");
  });

  it("reports incomplete coverage as an unsuccessful invocation with notifications", () => {
    const { log } = render();
    const inv = log.runs[0].invocations[0];
    expect(inv.executionSuccessful).toBe(false);
    expect(inv.startTimeUtc).toBe("2024-05-01T12:00:00Z");
    const notes = inv.toolExecutionNotifications as Json[];
    expect(notes.map((n) => n.level)).toEqual(["warning", "error"]);
    expect(notes[0]?.message.text).toContain("partial");
    expect(notes[0]?.message.text).toContain("sig=REDACTED");
    expect(notes[1]?.message.text).toContain("AuthorizationFailed");
    expect(notes[1]?.descriptor).toEqual({ id: "coverage/failed", index: 1 });
  });

  it("renders a complete empty scan", () => {
    const { result } = makeResult();
    const text = renderSarif(
      { ...result, findings: [], rules: [], coverage: [], complete: true },
      { toolVersion: "dev" },
    );
    const log = JSON.parse(text) as Json;
    expect(validate(log), errors()).toBe(true);
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].invocations[0]).not.toHaveProperty("toolExecutionNotifications");
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(true);
  });

  it("uses a custom artifact path and rejects non-relative ones", () => {
    const { log } = render("./.github/workflows/audit.yml");
    expect(validate(log), errors()).toBe(true);
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(
      ".github/workflows/audit.yml",
    );
    expect(toRepoRelativeUri("docs\\my audit.yml")).toBe("docs/my%20audit.yml");
    for (const bad of ["/etc/passwd", "C:\\x.yml", "https://x/y.yml", "../x.yml", "a//b", ""]) {
      expect(() => toRepoRelativeUri(bad), bad).toThrow(/relative to the repository root/);
    }
  });
});
