/**
 * Every ARM template under infra/ (issue 12, item 6): valid JSON, references that exist, real
 * resource types and apiVersions, dependsOn and outputs that resolve (arm-check.ts); the findings
 * table and its DCR stream declare the columns of src/azure/sentinel/table.ts; the identity's
 * custom role is docs/roles/azure-exec-audit-reader.json; the committed analytics rules template
 * is what `rules export --target sentinel --format arm` generates (also diffed by .ci/run).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyticsPack } from "../../src/azure/sentinel/analytics.js";
import { renderArm } from "../../src/azure/sentinel/render.js";
import { FINDINGS_COLUMNS, FINDINGS_STREAM, FINDINGS_TABLE } from "../../src/azure/sentinel/table.js";
import { loadRules } from "../../src/rules/loader.js";
import { API_VERSIONS, checkTemplate } from "./arm-check.js";

function templates(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return templates(p);
    return p.endsWith(".json") ? [p] : [];
  });
}

type Json = Record<string, unknown>;
const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as Json;
const files = templates("infra").filter((p) => /[dD]eploymentTemplate\.json#/.test(readFileSync(p, "utf8")));

describe("infra ARM templates", () => {
  it("finds the templates", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "infra/sentinel/findings-table-dcr.json",
        "infra/sentinel/scanner-identity.json",
        "infra/sentinel/analytics-rules.json",
        "infra/container-apps-job/container-apps-job.json",
      ]),
    );
  });

  for (const f of files) {
    it(`${f} passes the static checks`, () => {
      expect(checkTemplate(read(f), f)).toEqual([]);
    });
  }

  it("the checks fail on broken templates", () => {
    const t = read("infra/sentinel/findings-table-dcr.json");
    const params = { ...(t.parameters as Json) };
    delete params.principalId;
    const resources = structuredClone(t.resources) as Json[];
    (resources[1] as Json).apiVersion = "2099-01-01";
    (resources[2] as Json).dependsOn = ["[resourceId('Microsoft.Insights/dataCollectionRules', 'elsewhere')]"];
    const outputs = {
      ...(t.outputs as Json),
      bad: { type: "string", value: "[reference(resourceId('Microsoft.Web/sites', 'x')).id]" },
    };
    const problems = checkTemplate({ ...t, parameters: params, resources, outputs, variables: {} });
    expect(problems.join("\n")).toMatch(/parameters\('principalId'\) is not declared/);
    expect(problems.join("\n")).toMatch(/variables\('tableName'\) is not declared/);
    expect(problems.join("\n")).toMatch(/apiVersion 2099-01-01 is not a known one/);
    expect(problems.join("\n")).toMatch(
      /depends on resourceId\('Microsoft.Insights\/dataCollectionRules', 'elsewhere'\)/,
    );
    expect(problems.join("\n")).toMatch(/output bad references/);
    const id = read("infra/sentinel/scanner-identity.json");
    const outs = { ...(id.outputs as Json) };
    outs.principalId = {
      type: "string",
      value:
        "[reference(resourceId(parameters('identityResourceGroup'), 'Microsoft.Resources/deployments', variables('identityDeployment')), '2024-03-01').outputs.nope.value]",
    };
    expect(checkTemplate({ ...id, outputs: outs }).join("\n")).toMatch(/does not declare/);
  });

  it("every known apiVersion names its spec file", () => {
    for (const versions of Object.values(API_VERSIONS)) {
      for (const path of Object.values(versions)) expect(path).toMatch(/^specification\/.+\.json$/);
    }
  });

  it("the findings table and the DCR stream have the findings columns", () => {
    const t = read("infra/sentinel/findings-table-dcr.json");
    const vars = t.variables as Json;
    expect(vars.tableName).toBe(FINDINGS_TABLE);
    expect(vars.streamName).toBe(FINDINGS_STREAM);
    const want = FINDINGS_COLUMNS.map((c) => ({ name: c.name, type: c.type }));
    const table = (vars.columns as Json[]).map((c) => ({ name: c.name, type: c.type }));
    expect(table).toEqual(want);
    const dcr = (t.resources as Json[]).find((r) => r.type === "Microsoft.Insights/dataCollectionRules") as Json;
    expect(dcr.kind).toBe("Direct");
    const props = dcr.properties as Json;
    expect((props.streamDeclarations as Json)[FINDINGS_STREAM]).toEqual({ columns: want });
    const flow = (props.dataFlows as Json[])[0] as Json;
    expect(flow.outputStream).toBe("[variables('streamName')]");
    expect(FINDINGS_COLUMNS.map((c) => c.name)).toEqual([
      "TimeGenerated",
      "FindingId",
      "ScanId",
      "RuleId",
      "RuleName",
      "Severity",
      "Status",
      "AADTenantId",
      "SubscriptionId",
      "ResourceId",
      "ResourceType",
      "Principal",
      "PrincipalType",
      "CallerIpAddress",
      "OperationName",
      "CorrelationId",
      "AttackTactics",
      "AttackTechniques",
      "Evidence",
      "ToolVersion",
    ]);
  });

  it("Monitoring Metrics Publisher is assigned on the DCR", () => {
    const t = read("infra/sentinel/findings-table-dcr.json");
    const ra = (t.resources as Json[]).find((r) => r.type === "Microsoft.Authorization/roleAssignments") as Json;
    expect(ra.scope).toMatch(/Microsoft\.Insights\/dataCollectionRules/);
    const { roles } = read("data/builtin-role-definitions.json") as { roles: { name: string; roleName: string }[] };
    const mmp = roles.find((r) => r.roleName === "Monitoring Metrics Publisher");
    expect((t.variables as Json).monitoringMetricsPublisher).toBe(mmp?.name);
  });

  it("the identity's custom role is docs/roles/azure-exec-audit-reader.json", () => {
    const role = read("docs/roles/azure-exec-audit-reader.json");
    const t = read("infra/sentinel/scanner-identity.json");
    const def = (t.resources as Json[]).find((r) => r.type === "Microsoft.Authorization/roleDefinitions") as Json;
    const perm = ((def.properties as Json).permissions as Json[])[0] as Json;
    expect(perm.actions).toEqual(role.Actions);
    expect(perm.dataActions).toEqual(role.DataActions);
    expect((t.variables as Json).roleName).toBe(role.Name);
  });

  it("the committed analytics rules template is what rules export generates", async () => {
    const loaded = await loadRules(["detections"]);
    const text = renderArm(analyticsPack(loaded.rules, loaded.correlations));
    expect(readFileSync("infra/sentinel/analytics-rules.json", "utf8")).toBe(text);
  });
});
