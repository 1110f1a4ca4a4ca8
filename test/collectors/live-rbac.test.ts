import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LiveScope } from "../../src/azure/live/scope.js";
import { RbacCollector } from "../../src/collectors/rbac/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { CollectedItem, RoleAssignment, RoleDefinition } from "../../src/model/records.js";
import { runScan } from "../../src/scan/run.js";
import { armForbidden, exampleBody, ref, testSession } from "../helpers.js";

const ARM = "https://management.example.test";
/** The subscription of RoleAssignments_ListForScope.json. */
const SUB = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
const API = "2022-04-01";
const DEFS = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions`;
const ASSIGNS = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments`;

type Json = Record<string, unknown>;
const listForScope = exampleBody("RoleAssignments_ListForScope.json") as { value: Json[] };
const createdForSub = (ref("RoleAssignments_CreateForSubscription.json") as { responses: { "201": { body: Json } } })
  .responses["201"].body;
const definitionById = exampleBody("GetRoleDefinitionById.json") as Json;
const recordedDefinitions = ref("custodian-role-definitions.json") as { value: Json[] };

const session = () => testSession(ARM);
const forbidden = (action: string) => armForbidden(action, SUB);

async function collect(c: RbacCollector) {
  const plan = await c.plan();
  const tally = new CoverageTally();
  const items: CollectedItem[] = [];
  for await (const b of c.collect(plan, { tally, diagnostics: new Diagnostics() })) items.push(...b);
  return {
    plan,
    coverage: tally.entries(),
    definitions: items.filter((i): i is RoleDefinition => i.kind === "roleDefinition"),
    assignments: items.filter((i): i is RoleAssignment => i.kind === "roleAssignment"),
  };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("live RBAC collector", () => {
  it("reads definitions and assignments from the example bodies, following nextLink to page 2", async () => {
    const page2 = `${ARM}${ASSIGNS}?api-version=${API}&$skiptoken=page2`;
    const scope = nock(ARM)
      .get(DEFS)
      .query({ "api-version": API })
      .reply(200, { value: [definitionById] })
      .get(ASSIGNS)
      .query({ "api-version": API })
      .reply(200, { ...listForScope, nextLink: page2 })
      .get(ASSIGNS)
      .query({ "api-version": API, $skiptoken: "page2" })
      .reply(200, { value: [createdForSub] });

    const { plan, coverage, definitions, assignments } = await collect(
      new RbacCollector(session(), new LiveScope(session(), { subscriptions: [SUB.toUpperCase()] })),
    );
    expect(scope.isDone()).toBe(true);
    expect(plan.scopes).toEqual([SUB]);

    expect(definitions.map((d) => [d.id, d.guid, d.roleName, d.roleType])).toEqual([
      [definitionById.id, "roledefinitionid", "Role name", "roletype"],
    ]);
    expect(definitions[0]?.permissions).toEqual([
      { actions: ["action"], notActions: [], dataActions: ["dataAction"], notDataActions: [] },
    ]);

    const expected = [...listForScope.value, createdForSub].map((a) => {
      const p = a.properties as Json;
      return [a.id, p.principalId, p.roleDefinitionId, p.scope];
    });
    expect(expected).toHaveLength(2);
    expect(assignments.map((a) => [a.id, a.principalId, a.roleDefinitionId, a.scope])).toEqual(expected);
    expect(assignments.map((a) => a.roleDefinitionGuid)).toEqual([
      "0b5fe924-9a61-425c-96af-cfe6e287ca2d",
      "0b5fe924-9a61-425c-96af-cfe6e287ca2d",
    ]);
    // Page 2's records are located at page 2's URL, without its query (skip tokens).
    expect(assignments[1]?.origin.location).toBe(`${ARM}${ASSIGNS}`);
    expect(coverage).toEqual([{ source: "rbac", scope: `subscription ${SUB}`, status: "complete", records: 3 }]);
  });

  it("keeps every role definition of a recorded list page, once per GUID across subscriptions", async () => {
    const SUB2 = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    const n = recordedDefinitions.value.length;
    const scope = nock(ARM)
      .get(DEFS)
      .query({ "api-version": API })
      .reply(200, recordedDefinitions)
      .get(ASSIGNS)
      .query({ "api-version": API })
      .reply(200, { value: [] })
      .get(`/subscriptions/${SUB2}/providers/Microsoft.Authorization/roleDefinitions`)
      .query({ "api-version": API })
      .reply(200, recordedDefinitions)
      .get(`/subscriptions/${SUB2}/providers/Microsoft.Authorization/roleAssignments`)
      .query({ "api-version": API })
      .reply(200, { value: [] });

    const s = session();
    const { definitions, coverage } = await collect(
      new RbacCollector(s, new LiveScope(s, { subscriptions: [SUB, SUB2] })),
    );
    expect(scope.isDone()).toBe(true);
    expect(n).toBeGreaterThan(100);
    expect(definitions).toHaveLength(n);
    expect(new Set(definitions.map((d) => d.guid))).toEqual(
      new Set(recordedDefinitions.value.map((d) => String(d.name).toLowerCase())),
    );
    expect(coverage.map((c) => [c.scope, c.status, c.records])).toEqual([
      [`subscription ${SUB}`, "complete", n],
      [`subscription ${SUB2}`, "complete", 0],
    ]);
  });

  it("a 403 AuthorizationFailed on role assignments leaves the scope partial, naming the role to grant", async () => {
    const scope = nock(ARM)
      .get(DEFS)
      .query({ "api-version": API })
      .reply(200, { value: [definitionById] })
      .get(ASSIGNS)
      .query({ "api-version": API })
      .reply(403, forbidden("Microsoft.Authorization/roleAssignments/read"), { "x-ms-failure-cause": "gateway" });

    const s = session();
    const { coverage, definitions, assignments } = await collect(
      new RbacCollector(s, new LiveScope(s, { subscriptions: [SUB] })),
    );
    expect(scope.isDone()).toBe(true);
    expect(definitions).toHaveLength(1);
    expect(assignments).toHaveLength(0);
    expect(coverage).toHaveLength(1);
    const entry = coverage[0];
    expect(entry?.status).toBe("partial");
    expect(entry?.reason).toContain("not authorised to read role assignments");
    expect(entry?.reason).toContain("(AuthorizationFailed)");
    expect(entry?.reason).toContain(
      "grant the scanning identity Reader (Microsoft.Authorization/roleAssignments/read)",
    );
  });

  it("403s on both reads fail the scope, and the scan through runScan is not complete", async () => {
    const scope = nock(ARM)
      .get(DEFS)
      .query({ "api-version": API })
      .reply(403, forbidden("Microsoft.Authorization/roleDefinitions/read"))
      .get(ASSIGNS)
      .query({ "api-version": API })
      .reply(403, forbidden("Microsoft.Authorization/roleAssignments/read"));

    const s = session();
    const { result } = await runScan({
      collectors: [new RbacCollector(s, new LiveScope(s, { subscriptions: [SUB] }))],
      loaded: { rules: [], correlations: [], errors: [] } as unknown as Parameters<typeof runScan>[0]["loaded"],
      now: () => new Date("2026-01-01T00:00:00Z"),
    });
    expect(scope.isDone()).toBe(true);
    expect(result.complete).toBe(false);
    expect(result.coverage).toHaveLength(1);
    expect(result.coverage[0]?.status).toBe("failed");
    expect(result.coverage[0]?.reason).toContain("Reader (Microsoft.Authorization/roleDefinitions/read)");
    expect(result.coverage[0]?.reason).toContain("Reader (Microsoft.Authorization/roleAssignments/read)");
  });

  // The SDK's path is `/{scope}/providers/…` with the scope unencoded: a scope passed as
  // `/subscriptions/{id}` went out as `//subscriptions/…` (the emulator collapses it; ARM need not).
  it("requests role definitions at the subscription's path (one slash)", async () => {
    const scope = nock(ARM)
      .get(DEFS)
      .query({ "api-version": API })
      .reply(200, { value: [definitionById] })
      .get(ASSIGNS)
      .query({ "api-version": API })
      .reply(200, listForScope);
    const s = session();
    const { coverage, definitions } = await collect(new RbacCollector(s, new LiveScope(s, { subscriptions: [SUB] })));
    expect(coverage[0]?.reason).toBeUndefined();
    expect(definitions).toHaveLength(1);
    expect(scope.isDone()).toBe(true);
  });
});
