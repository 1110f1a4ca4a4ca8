/**
 * Grants are computed from a role's actions and notActions; an ABAC condition on the assignment
 * may narrow them, and the tool cannot evaluate it. A grant or role-assignment finding therefore
 * shows the condition, so nobody reads a conditional assignment as an unconditional one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { evidenceOf, exampleBody, ref, runCli, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

type Json = Record<string, unknown>;
// RoleAssignments_CreateForSubscription.json (azure-rest-api-specs, test/fixtures/reference/SOURCES.md).
const assignment = (ref("RoleAssignments_CreateForSubscription.json") as { responses: { "200": { body: Json } } })
  .responses["200"].body;
const guid = "0b5fe924-9a61-425c-96af-cfe6e287ca2d";
// RoleAssignmentProperties.condition / conditionVersion (Authorization 2022-04-01); the text is the
// example the spec gives in the property's description.
const CONDITION =
  "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:ContainerName] StringEqualsIgnoreCase 'foo_storage_container'";
const conditional = {
  ...assignment,
  properties: { ...(assignment.properties as Json), condition: CONDITION, conditionVersion: "2.0" },
};
// GetRoleDefinitionById.json's shape, given the assignment's role GUID and an execution action.
const definition = {
  ...(exampleBody("GetRoleDefinitionById.json") as Json),
  id: `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
  name: guid,
  properties: {
    roleName: "Custom runner",
    type: "CustomRole",
    assignableScopes: ["/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"],
    permissions: [{ actions: ["Microsoft.Compute/virtualMachines/runCommand/action"], notActions: [] }],
  },
};

const rule = `title: Anyone who can run commands on machines
id: 7d0b1f3e-5d7a-4c44-9d3e-2f4c7f0b9a11
status: experimental
logsource: { product: azure, service: grants }
detection:
  selection:
    operations|contains: runcommand
  condition: selection
level: medium
tags: [attack.execution, attack.t1651]
`;

describe("a conditional role assignment", () => {
  const rules = tmp.write("rules/grants.yml", rule);
  const defs = tmp.write("in/definitions.json", JSON.stringify({ value: [definition] }));

  it("is shown as conditional on the grant finding, in JSON and in the table", async () => {
    const input = tmp.write("in/assignments.json", JSON.stringify({ value: [conditional] }));
    const args = ["scan", "--no-state", "--input", input, defs, "--rules", rules.replace(/\/grants\.yml$/, "")];
    const json = await runCli([...args, "--format", "json"]);
    expect(json.stderr).toBe("");
    const findings = (JSON.parse(json.stdout) as { findings: { ruleId: string }[] }).findings.filter(
      (f) => f.ruleId === "7d0b1f3e-5d7a-4c44-9d3e-2f4c7f0b9a11",
    );
    expect(findings).toHaveLength(1);
    const e = evidenceOf(findings[0] as never, "grant");
    expect(e.grant.condition).toBe(CONDITION);
    expect(e.grant.role).toBe("Custom runner");

    const table = await runCli([...args, "--format", "table"]);
    expect(table.stdout).toContain("conditional assignment: @Resource[Microsoft.Storage/storageAccounts");
  });

  it("an unconditional assignment carries no condition", async () => {
    const input = tmp.write("in2/assignments.json", JSON.stringify({ value: [assignment] }));
    const json = await runCli([
      "scan",
      "--no-state",
      "--input",
      input,
      defs,
      "--rules",
      rules.replace(/\/grants\.yml$/, ""),
      "--format",
      "json",
    ]);
    const f = (JSON.parse(json.stdout) as { findings: { ruleId: string }[] }).findings.find(
      (x) => x.ruleId === "7d0b1f3e-5d7a-4c44-9d3e-2f4c7f0b9a11",
    );
    expect(evidenceOf(f as never, "grant").grant.condition).toBeUndefined();
  });
});
