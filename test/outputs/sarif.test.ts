import { describe, expect, it } from "vitest";
import type { ScanResult } from "../../src/model/finding.js";
import { FINGERPRINT_KEY, sarifFormat, toRepoRelativeUri } from "../../src/outputs/formats/sarif.js";
import { renderToString } from "../../src/outputs/registry.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";
import { ESC, makeResult } from "./fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate parsed SARIF freely.
type Json = Record<string, any>;

const validate = validateSarif;

function renderSarif(result: ScanResult, meta: { toolVersion: string; artifactUri?: string }): Promise<string> {
  const options = meta.artifactUri ? { artifactUri: meta.artifactUri } : {};
  return renderToString(sarifFormat, result, { toolVersion: meta.toolVersion, color: false, options });
}

async function render(artifactUri?: string) {
  const { result, secrets } = makeResult();
  const text = await renderSarif(result, { toolVersion: "0.1.0", ...(artifactUri ? { artifactUri } : {}) });
  return { text, log: JSON.parse(text) as Json, result, secrets };
}

function errors(): string {
  return sarifErrors();
}

describe("renderSarif", () => {
  it("validates against the SARIF 2.1.0 schema", async () => {
    const { log } = await render();
    expect(validate(log), errors()).toBe(true);
  });

  it("the validator really rejects broken SARIF", async () => {
    const { log } = await render();
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

  it("describes the tool and its rules as GitHub code scanning expects", async () => {
    const { log, result } = await render();
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

  it("gives every result a repo-relative physical location, line 1, and the ARM id", async () => {
    const { log, result } = await render();
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

  it("has stable fingerprints across renders", async () => {
    const a = (await render()).log.runs[0].results.map((r: Json) => r.partialFingerprints);
    const b = (await render()).log.runs[0].results.map((r: Json) => r.partialFingerprints);
    expect(a).toEqual(b);
    expect(new Set(a.map((p: Json) => p[FINGERPRINT_KEY])).size).toBe(a.length);
  });

  it("puts title, resource, principal and time in a sanitised, redacted message", async () => {
    const { text, log, secrets } = await render();
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

  it("reports incomplete coverage as an unsuccessful invocation with notifications", async () => {
    const { log } = await render();
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

  it("reports an empty scope under its own descriptor, not as a partial read", async () => {
    const { result } = makeResult();
    const empty = {
      source: "files" as const,
      scope: "/data/none",
      status: "empty" as const,
      records: 0,
      reason: "no records",
    };
    const text = await renderSarif({ ...result, coverage: [empty], complete: false }, { toolVersion: "dev" });
    const log = JSON.parse(text) as Json;
    expect(validate(log), errors()).toBe(true);
    const notes = log.runs[0].invocations[0].toolExecutionNotifications as Json[];
    expect(notes).toHaveLength(1);
    expect(notes[0]?.level).toBe("warning");
    expect(notes[0]?.descriptor).toEqual({ id: "coverage/empty", index: 2 });
    const descriptors = log.runs[0].tool.driver.notifications as Json[];
    expect(descriptors[2]?.id).toBe("coverage/empty");
  });

  it("renders a complete empty scan", async () => {
    const { result } = makeResult();
    const text = await renderSarif(
      { ...result, findings: [], rules: [], coverage: [], complete: true },
      { toolVersion: "dev" },
    );
    const log = JSON.parse(text) as Json;
    expect(validate(log), errors()).toBe(true);
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].invocations[0]).not.toHaveProperty("toolExecutionNotifications");
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(true);
  });

  it("uses a custom artifact path and rejects non-relative ones", async () => {
    const { log } = await render("./.github/workflows/audit.yml");
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

describe("sarif format options and streaming", () => {
  it("declares --sarif-artifact-uri with the workflow file as default", () => {
    expect(sarifFormat.options).toEqual([
      {
        flag: "--sarif-artifact-uri <path>",
        description: expect.any(String),
        key: "artifactUri",
        default: ".github/azure-exec-audit.yml",
      },
    ]);
  });

  it("rejects a bad artifact path before writing anything", async () => {
    const { result } = makeResult();
    const chunks: string[] = [];
    const render = sarifFormat.render(
      result,
      { toolVersion: "0.1.0", color: false, options: { artifactUri: "/etc/passwd" } },
      { write: async (c) => void chunks.push(c) },
    );
    await expect(render).rejects.toThrow(/relative to the repository root/);
    expect(chunks).toEqual([]);
  });

  it("streams results one by one into one indented JSON document", async () => {
    const { result } = makeResult();
    const chunks: string[] = [];
    await sarifFormat.render(
      result,
      { toolVersion: "0.1.0", color: false, options: {} },
      { write: async (c) => void chunks.push(c) },
    );
    const text = chunks.join("");
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    for (const f of result.findings) {
      expect(chunks.filter((c) => c.includes(`"${FINGERPRINT_KEY}": "${f.id}"`))).toHaveLength(1);
    }
    expect(validate(JSON.parse(text)), errors()).toBe(true);
  });
});
