/**
 * The engine's seams (issue: architecture): one execution catalogue feeds chains and grants,
 * derivation is independent of input order, correlation buffers are bounded for real, and the
 * Sigma model, matcher and KQL backend know nothing of Azure.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXECUTION_CATALOGUE } from "../../src/azure/catalog/execution-operations.js";
import { DIAGNOSTIC_CODES } from "../../src/model/diagnostics.js";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { runCase } from "../../src/rules/tester.js";
import { exampleBody, packRule } from "../helpers.js";

const grantThenExecute = await packRule("Execution-capable role granted, then used");
const roleGranted = await packRule("Role granted that can run code");

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001";
const GRANTEE = "5a5a5a5a-0000-0000-0000-000000000001";
const claims = (oid: string) => ({ "http://schemas.microsoft.com/identity/claims/objectidentifier": oid });

/** REST Activity Log shape, as in detections/chains/grant-then-execute.tests.yml. */
function grant(roleGuid: string, at = "2026-11-19T02:04:11Z") {
  return {
    operationName: { value: "Microsoft.Authorization/roleAssignments/write" },
    eventTimestamp: at,
    eventDataId: `grant-${roleGuid}`,
    correlationId: "cg",
    status: { value: "Started" },
    caller: "admin@contoso.example.com",
    claims: claims("7c7c7c7c-0000-0000-0000-000000000001"),
    resourceId: `${SUB}/providers/Microsoft.Authorization/roleAssignments/aaaaaaaa-0000-0000-0000-000000000001`,
    properties: {
      requestbody: JSON.stringify({
        Properties: {
          PrincipalId: GRANTEE,
          RoleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
        },
      }),
    },
  };
}

function operation(op: string, at = "2026-11-19T03:00:00Z", oid = GRANTEE) {
  const provider = op.split("/").slice(0, 2).join("/");
  return {
    operationName: { value: op },
    eventTimestamp: at,
    eventDataId: `op-${op}`,
    correlationId: `c-${op}`,
    status: { value: "Succeeded" },
    caller: oid,
    claims: claims(oid),
    resourceId: `${SUB}/resourceGroups/rg/providers/${provider}/target1`,
  };
}

const CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

describe("one execution catalogue: a grant followed by any operation in it is a chain", () => {
  const categories = [...new Set(EXECUTION_CATALOGUE.map((o) => o.category))];
  it("has every category the vectors need", () => {
    expect(categories.sort()).toEqual(
      ["automation", "compute", "containers", "data-and-ml", "deployment", "registry", "serverless"].sort(),
    );
  });
  for (const category of categories) {
    describe(category, () => {
      for (const { operation: op } of EXECUTION_CATALOGUE.filter((o) => o.category === category)) {
        it(op, () => {
          const { findings } = runCase(grantThenExecute, [grant(CONTRIBUTOR), operation(op)]);
          expect(findings).toHaveLength(1);
          expect(findings[0]?.evidence.kind).toBe("chain");
        });
      }
    });
  }
  it("an operation outside the catalogue makes no chain", () => {
    const { findings } = runCase(grantThenExecute, [
      grant(CONTRIBUTOR),
      operation("Microsoft.Storage/storageAccounts/write"),
    ]);
    expect(findings).toEqual([]);
  });
  it("a grant of a role that cannot execute makes no chain", () => {
    const { findings } = runCase(grantThenExecute, [grant(READER), operation(EXECUTION_CATALOGUE[0]?.operation ?? "")]);
    expect(findings).toEqual([]);
  });
});

describe("derivation is independent of input order", () => {
  // A custom role from the REST spec example (GetRoleDefinitionById), given an execution action.
  const custom = exampleBody("GetRoleDefinitionById.json") as Record<string, unknown> & {
    properties: { permissions: { actions: string[] }[] };
  };
  const guid = "c0ffee00-0000-4000-8000-000000000001";
  const definition = {
    ...custom,
    id: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
    name: guid,
    properties: {
      ...custom.properties,
      roleName: "Custom runner",
      permissions: [
        {
          actions: ["Microsoft.Compute/virtualMachines/runCommand/action"],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
    },
  };
  it("a custom role definition read after the assignment still makes the grant execution-capable", () => {
    expect(runCase(roleGranted, [grant(guid), definition]).findings).toHaveLength(1);
    expect(runCase(roleGranted, [definition, grant(guid)]).findings).toHaveLength(1);
    expect(
      runCase(grantThenExecute, [
        grant(guid),
        operation("Microsoft.Compute/virtualMachines/runCommand/action"),
        definition,
      ]).findings,
    ).toHaveLength(1);
  });
  it("without the definition the custom role is unknown and nothing fires", () => {
    expect(runCase(roleGranted, [grant(guid)]).findings).toEqual([]);
  });
  it("a role that can only assign roles (User Access Administrator) counts as a grant of execution", () => {
    expect(runCase(roleGranted, [grant("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9")]).findings).toHaveLength(1);
    expect(runCase(roleGranted, [grant(READER)]).findings).toEqual([]);
  });
});

const bulk = await packRule("One identity runs commands on many machines");

describe("correlation buffers are bounded", () => {
  const runs = Array.from({ length: 8 }, (_, i) => ({
    ...operation("Microsoft.Compute/virtualMachines/runCommand/action", `2026-11-19T03:0${i}:00Z`),
    eventDataId: `run-${i}`,
    correlationId: `cr-${i}`,
    resourceId: `${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}`,
  }));
  it("holds at most the limit, says so in a diagnostic, and still correlates what it held", () => {
    const { findings, pipeline } = runCase(bulk, runs, { correlationEvents: 4 });
    const d = pipeline.engine.diagnostics.list().filter((x) => x.code === DIAGNOSTIC_CODES.correlationBound);
    expect(d).toHaveLength(1);
    expect(d[0]?.message).toMatch(/held its limit of 4 matches and ignored 4 more \(it kept the latest\)/);
    expect(findings).toHaveLength(1);
    const steps = findings[0]?.evidence.kind === "chain" ? findings[0].evidence.steps : [];
    expect(steps).toHaveLength(4);
  });
  it("keeps the latest matches whatever order they arrive in (two workers interleave)", () => {
    const timesOf = (order: typeof runs) => {
      const { findings } = runCase(bulk, order, { correlationEvents: 4 });
      const e = findings[0]?.evidence;
      return e?.kind === "chain" ? e.steps.map((s) => s.time) : [];
    };
    const latest = ["2026-11-19T03:04:00Z", "2026-11-19T03:05:00Z", "2026-11-19T03:06:00Z", "2026-11-19T03:07:00Z"];
    expect(timesOf(runs)).toEqual(latest);
    expect(timesOf([...runs].reverse())).toEqual(latest);
    expect(timesOf([...runs.filter((_, i) => i % 2), ...runs.filter((_, i) => !(i % 2))])).toEqual(latest);
  });
  it("under the limit there is no diagnostic", () => {
    const { pipeline } = runCase(bulk, runs);
    expect(pipeline.engine.diagnostics.list()).toEqual([]);
  });
});

describe("the Sigma model, the matcher and the KQL backend know nothing of Azure", () => {
  const files = (dir: string): string[] =>
    readdirSync(join(PACKAGE_ROOT, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(PACKAGE_ROOT, dir, f));
  const sources = [...files("src/sigma"), ...files("src/matcher"), ...files("src/kql")];
  it.each([
    ["operation field names", /operationName|OperationNameValue|Properties_d|callerIpAddress|eventDataId/],
    ["operation names", /Microsoft\.[A-Z][A-Za-z]+\//],
    ["Azure and record kinds", /\bazure\b|activitylogs|\bActivityEvent\b|\bAuditRecord\b/i],
    ["imports of the Azure layer, records or the engine", /from "\.\.\/(azure|engine|model|collectors|scan)\//],
  ])("no %s", (_what, pattern) => {
    expect(sources.length).toBeGreaterThan(5);
    const hits = sources.filter((f) => pattern.test(readFileSync(f, "utf8")));
    expect(hits).toEqual([]);
  });
});
