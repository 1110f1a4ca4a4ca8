/**
 * The exported rules have the shapes Sentinel reads, checked against the reference examples in
 * test/fixtures/reference/sentinel/ (SOURCES.md): the Azure-Sentinel repository's analytic rule
 * YAML and the quickstart alertRules ARM template; and the infra template's table and DCR against
 * Microsoft's Logs Ingestion tutorial.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { analyticsPack } from "../../src/azure/sentinel/analytics.js";
import { isoDuration, renderArm, renderYaml, splitTechniques, yamlDuration } from "../../src/azure/sentinel/render.js";
import { loadRules } from "../../src/rules/loader.js";

type Json = Record<string, unknown>;
const ref = (f: string) => readFileSync(`test/fixtures/reference/sentinel/${f}`, "utf8");
const loaded = await loadRules(["detections"]);
const pack = analyticsPack(loaded.rules, loaded.correlations);

describe("Sentinel analytics rule formats", () => {
  it("YAML documents have the Azure-Sentinel rule keys, in its order", () => {
    const example = parseYaml(ref("analytics-rule-example.yaml")) as Json;
    const docs = parseAllDocuments(renderYaml(pack))
      .map((d) => d.toJS() as Json)
      .filter(Boolean);
    expect(docs.length).toBe(pack.rules.length);
    // The example's keys less `status` (a repository workflow field), which we do not set.
    const want = Object.keys(example).filter((k) => k !== "status");
    for (const d of docs) {
      expect(Object.keys(d)).toEqual(want);
      expect(d.kind).toBe("Scheduled");
      expect(d.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(["Informational", "Low", "Medium", "High"]).toContain(d.severity);
      for (const t of d.tactics as string[]) expect(t).toMatch(/^[A-Z][A-Za-z]+$/);
    }
  });

  it("ARM alert rules carry the quickstart's and the spec's required properties", () => {
    const example = JSON.parse(ref("alertrule-arm-example.json")) as Json;
    const exRes = (example.resources as Json[])[0] as Json;
    const t = JSON.parse(renderArm(pack)) as Json;
    const resources = t.resources as Json[];
    expect(resources.length).toBe(pack.rules.length);
    // ScheduledAlertRuleProperties' required list (AlertRules.json, 2025-07-01-preview).
    const required = [
      "displayName",
      "enabled",
      "severity",
      "query",
      "queryFrequency",
      "queryPeriod",
      "triggerOperator",
      "triggerThreshold",
      "suppressionEnabled",
      "suppressionDuration",
    ];
    for (const r of resources) {
      expect(Object.keys(r).sort()).toEqual(Object.keys(exRes).sort());
      expect(r.kind).toBe("Scheduled");
      const p = r.properties as Json;
      for (const k of required) expect(p).toHaveProperty(k);
      expect(p.queryFrequency).toMatch(/^P(\d+D)?(T(\d+H)?(\d+M)?)?$/);
      expect(p.queryPeriod).toMatch(/^P(\d+D)?(T(\d+H)?(\d+M)?)?$/);
      for (const s of p.subTechniques as string[]) expect(s).toMatch(/^T\d{4}\.\d{3}$/);
      for (const s of p.techniques as string[]) expect(s).toMatch(/^T\d{4}$/);
      expect(String(p.query).startsWith("[")).toBe(false);
    }
    expect((t.metadata as Json).notExported).toEqual(
      pack.refused.map((r) => ({ ruleId: r.ruleId, title: r.title, reason: r.reason })),
    );
  });

  it("durations, technique split", () => {
    expect(isoDuration(3_600_000)).toBe("PT1H");
    expect(isoDuration(7 * 86_400_000 + 3_600_000)).toBe("P7DT1H");
    expect(isoDuration(15 * 60_000)).toBe("PT15M");
    expect(yamlDuration(14 * 86_400_000)).toBe("14d");
    expect(yamlDuration(169 * 3_600_000)).toBe("169h");
    expect(splitTechniques(["T1059.009", "T1651", "T1059.004"])).toEqual({
      techniques: ["T1059", "T1651"],
      subTechniques: ["T1059.009", "T1059.004"],
    });
  });

  it("the findings table and DCR follow the Logs Ingestion tutorial's shapes", () => {
    const table = JSON.parse(ref("custom-table-MyTable_CL.json")) as { properties: { schema: Json } };
    const dcrExample = JSON.parse(ref("dcr-direct-example.json")) as Json;
    const ours = JSON.parse(readFileSync("infra/sentinel/findings-table-dcr.json", "utf8")) as Json;
    const res = ours.resources as Json[];
    const tableRes = res.find((r) => r.type === "Microsoft.OperationalInsights/workspaces/tables") as Json;
    expect(Object.keys((tableRes.properties as Json).schema as Json).sort()).toEqual(
      Object.keys(table.properties.schema).sort(),
    );
    const exDcr = (dcrExample.resources as Json[])[0] as Json;
    const dcr = res.find((r) => r.type === exDcr.type) as Json;
    expect(dcr.kind).toBe(exDcr.kind);
    expect(dcr.apiVersion).toBe(exDcr.apiVersion);
    expect(Object.keys(dcr.properties as Json).sort()).toEqual(Object.keys(exDcr.properties as Json).sort());
    const flow = ((dcr.properties as Json).dataFlows as Json[])[0] as Json;
    expect(Object.keys(flow).sort()).toEqual(
      Object.keys(((exDcr.properties as Json).dataFlows as Json[])[0] as Json).sort(),
    );
  });
});
