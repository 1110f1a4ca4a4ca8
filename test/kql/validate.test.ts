/**
 * Item 5 of issue 12: every query `rules export --target sentinel` generates parses and binds with
 * the official Kusto language service against the AzureActivity schema; any diagnostic fails.
 */
import { describe, expect, it } from "vitest";
import { AZURE_ACTIVITY_COLUMNS } from "../../src/azure/kql.js";
import { analyticsPack } from "../../src/azure/sentinel/analytics.js";
import { loadRules } from "../../src/rules/loader.js";
import { diagnose, referenceColumns } from "./kusto.js";

const loaded = await loadRules(["detections"]);
const pack = analyticsPack(loaded.rules, loaded.correlations);

describe("Kusto language service", () => {
  it("flags what is wrong (the check can fail)", () => {
    expect(diagnose("AzureActivity | where NoSuchColumn =~ 'x'")).not.toEqual([]);
    expect(diagnose("AzureActivity | where OperationNameValue =~")).not.toEqual([]);
    expect(diagnose("AzureActivity | where TimeGenerated contains 1")).not.toEqual([]);
    expect(diagnose("AzureActivity | where OperationNameValue =~ 'x'")).toEqual([]);
  });

  it("the backend's columns are exactly the reference's, with its types", () => {
    expect(AZURE_ACTIVITY_COLUMNS).toEqual(referenceColumns());
  });

  it("exports most of the Activity Log pack", () => {
    expect(pack.rules.length).toBeGreaterThan(50);
    expect(pack.rules.filter((r) => r.kind === "first-seen").length).toBeGreaterThan(0);
  });

  for (const r of pack.rules) {
    it(`${r.kind} ${r.name} (${r.ruleId}) has no diagnostic`, () => {
      expect(diagnose(r.query)).toEqual([]);
    });
  }
});
