/** Which roles can execute, derived from real role definitions. */
import { describe, expect, it } from "vitest";
import { executionOperations, RoleCatalog } from "../../src/azure/catalog/roles.js";
import type { RoleDefinition } from "../../src/model/records.js";
import { exampleBody, ref } from "../helpers.js";

const catalog = new RoleCatalog();
const can = (guid: string) => catalog.canExecute(`/providers/Microsoft.Authorization/roleDefinitions/${guid}`);

describe("execution-capable roles", () => {
  it("built-in roles that run code can execute; readers cannot", () => {
    expect(can("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")).toBe(true); // Owner
    expect(can("b24988ac-6180-42a0-ab88-20f7382dd24c")).toBe(true); // Contributor
    expect(can("9980e02c-c2be-4d73-94e8-173b1dc7cf3c")).toBe(true); // Virtual Machine Contributor
    expect(can("de139f84-1756-47ae-9be6-808fbbe84772")).toBe(true); // Website Contributor
    expect(can("acdd72a7-3385-48ef-bd42-f606fba81ae7")).toBe(false); // Reader
    expect(can("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9")).toBe(false); // User Access Administrator: grants, does not run
  });
  it("no reader role counts, even with Microsoft.Resources/deployments/*", () => {
    const defs = (
      ref("custodian-role-definitions.json") as {
        value: { properties: { roleName: string; permissions: RoleDefinition["permissions"] } }[];
      }
    ).value;
    const readers = defs.filter((d) => / Reader$/.test(d.properties.roleName));
    expect(readers.length).toBeGreaterThan(5);
    for (const r of readers) expect(executionOperations(r.properties.permissions), r.properties.roleName).toEqual([]);
  });
  it("notActions remove what actions allow; wildcards span segments", () => {
    expect(
      executionOperations([
        {
          actions: ["Microsoft.Compute/*"],
          notActions: ["Microsoft.Compute/virtualMachines/*"],
          dataActions: [],
          notDataActions: [],
        },
      ]),
    ).not.toContain("microsoft.compute/virtualmachines/runcommand/action");
    expect(
      executionOperations([{ actions: ["*/runCommand/action"], notActions: [], dataActions: [], notDataActions: [] }]),
    ).toContain("microsoft.compute/virtualmachines/runcommand/action");
  });
  it("custom roles read from the input count", () => {
    const def = exampleBody("GetRoleDefinitionById.json") as { name: string };
    const c = new RoleCatalog();
    c.add({
      kind: "roleDefinition",
      id: "x",
      guid: "0000aaaa-0000-0000-0000-000000000001",
      roleName: "Ops runner",
      assignableScopes: [],
      permissions: [
        {
          actions: ["Microsoft.Compute/virtualMachines/runCommand/action"],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      origin: { shape: "t", location: "t" },
      raw: def,
    });
    expect(
      c.canExecute(
        "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/0000AAAA-0000-0000-0000-000000000001",
      ),
    ).toBe(true);
  });
});
