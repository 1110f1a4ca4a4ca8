/** Canonical spelling of operation names and resource ids for display (src/azure/catalog/canonical.ts). */
import { describe, expect, it } from "vitest";
import { canonicalOperation, canonicalResourceId, learnOperationSpelling } from "../../src/azure/catalog/canonical.js";

describe("canonical spelling", () => {
  it("gives an operation the catalogue's spelling whatever the input's case; unknown ones as written", () => {
    expect(canonicalOperation("MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION")).toBe(
      "Microsoft.Compute/virtualMachines/runCommand/action",
    );
    expect(canonicalOperation("microsoft.authorization/roleassignments/write")).toBe(
      "Microsoft.Authorization/roleAssignments/write",
    );
    expect(canonicalOperation("MICROSOFT.FOO/BARS/WRITE")).toBe("MICROSOFT.FOO/BARS/WRITE");
  });

  it("learns a rule's spelling, never over the catalogue's, and never from a lower-case or wildcard one", () => {
    learnOperationSpelling("Microsoft.Example/widgets/spin/action");
    expect(canonicalOperation("MICROSOFT.EXAMPLE/WIDGETS/SPIN/ACTION")).toBe("Microsoft.Example/widgets/spin/action");
    learnOperationSpelling("Microsoft.Compute/VirtualMachines/RunCommand/Action");
    expect(canonicalOperation("microsoft.compute/virtualmachines/runcommand/action")).toBe(
      "Microsoft.Compute/virtualMachines/runCommand/action",
    );
    learnOperationSpelling("microsoft.lower/things/write");
    expect(canonicalOperation("MICROSOFT.LOWER/THINGS/WRITE")).toBe("MICROSOFT.LOWER/THINGS/WRITE");
  });

  it("spells keywords, namespaces and types of a resource id canonically and leaves names as written", () => {
    expect(
      canonicalResourceId(
        "/SUBSCRIPTIONS/8B18/RESOURCEGROUPS/RG-App/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-01/RUNCOMMANDS/Update",
      ),
    ).toBe(
      "/subscriptions/8B18/resourceGroups/RG-App/providers/Microsoft.Compute/virtualMachines/VM-01/runCommands/Update",
    );
    // Extension resources: a nested providers restarts the walk.
    expect(
      canonicalResourceId(
        "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm/providers/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/x",
      ),
    ).toBe(
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments/x",
    );
    // Unknown types keep their case; a name that happens to equal a type name is still a name.
    expect(canonicalResourceId("/subscriptions/s/providers/MICROSOFT.FOO/BARS/VIRTUALMACHINES")).toBe(
      "/subscriptions/s/providers/MICROSOFT.FOO/BARS/VIRTUALMACHINES",
    );
    expect(canonicalResourceId("not-an-id")).toBe("not-an-id");
  });
});
