/**
 * ACR tasks in the live registry collector, against nock with azure-rest-api-specs example bodies
 * (test/fixtures/reference/SOURCES.md): RegistryList.json (ContainerRegistry 2025-04-01),
 * TasksList.json (ContainerRegistryTasks 2019-04-01) and, for the secrets a task can carry,
 * TasksGetDetails.json. The examples' subscriptions are replaced by one GUID. The data plane
 * answers 404 here: only the subscription's control-plane coverage is under test.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { derivePayloads } from "../../src/azure/enrich/payloads.js";
import { LiveScope } from "../../src/azure/live/scope.js";
import { cutTaskSecrets, RegistryCollector } from "../../src/collectors/registry/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { ArmResource, CollectedItem } from "../../src/model/records.js";
import { REDACTED } from "../../src/util/redact.js";
import { armForbidden, exampleBody, testSession } from "../helpers.js";

const ARM = "https://management.example.test";
const SUB = "4385cf00-2d3a-425a-832f-f4285b1c9dce";
type Json = Record<string, unknown>;

const registryList = JSON.parse(
  JSON.stringify(exampleBody("RegistryList.json")).replaceAll(
    "/subscriptions/00000000-0000-0000-0000-000000000000/",
    `/subscriptions/${SUB}/`,
  ),
) as { value: Json[] };
const REGISTRY = registryList.value[0]?.id as string;
// TasksList.json is already in SUB, under the same registry (myResourceGroup/myRegistry).
const tasksList = exampleBody("TasksList.json") as { value: Json[] };
const details = exampleBody("TasksGetDetails.json") as Json;

const session = () => testSession(ARM);

async function collect() {
  const s = session();
  const c = new RegistryCollector(s, new LiveScope(s, { subscriptions: [SUB] }));
  const plan = await c.plan();
  const tally = new CoverageTally();
  const items: CollectedItem[] = [];
  for await (const b of c.collect(plan, { tally, diagnostics: new Diagnostics() })) items.push(...b);
  return {
    subscription: tally.entries().find((e) => e.scope === `subscription ${SUB}`),
    resources: items.filter((i): i is ArmResource => i.kind === "resource"),
  };
}

function registries() {
  nock(ARM)
    .get(`/subscriptions/${SUB}/providers/Microsoft.ContainerRegistry/registries`)
    .query(true)
    .reply(200, registryList);
  // The data plane (not under test): any request is answered 404, which fails only the registry's own scope.
  nock("https://myregistry.azurecr-test.io").persist().get(/.*/).reply(404, {});
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("live registry collector: ACR tasks", () => {
  it("lists each registry's tasks (Tasks_List 2019-04-01) as resources whose step and triggers are payloads", async () => {
    registries();
    const tasks = nock(ARM).get(`${REGISTRY}/tasks`).query({ "api-version": "2019-04-01" }).reply(200, tasksList);
    const { subscription, resources } = await collect();
    expect(tasks.isDone()).toBe(true);
    expect(subscription).toEqual({ source: "registry", scope: `subscription ${SUB}`, status: "complete", records: 2 });
    const task = resources.find((r) => r.typeLower === "microsoft.containerregistry/registries/tasks");
    expect(task?.id).toBe(tasksList.value[0]?.id);
    expect(
      derivePayloads(task as ArmResource).map((p) => [p.payloadKind, p.path, p.content, p.vectorTechniques]),
    ).toEqual([
      ["url", "properties.step.contextPath", "src", ["T1648"]],
      [
        "url",
        "properties.trigger.sourceTriggers[0].sourceRepository.repositoryUrl",
        "https://github.com/Azure/azure-rest-api-specs",
        ["T1648"],
      ],
    ]);
  });

  it("a refused task list leaves the subscription partial, naming Microsoft.ContainerRegistry/registries/tasks/read", async () => {
    registries();
    nock(ARM)
      .get(`${REGISTRY}/tasks`)
      .query(true)
      .reply(403, armForbidden("Microsoft.ContainerRegistry/registries/tasks/read", SUB));
    const { subscription, resources } = await collect();
    expect(resources.map((r) => r.typeLower)).toEqual(["microsoft.containerregistry/registries"]);
    expect(subscription?.status).toBe("partial");
    expect(subscription?.reason).toContain("not authorised to read ACR tasks of registry myRegistry");
    expect(subscription?.reason).toContain("Reader (Microsoft.ContainerRegistry/registries/tasks/read)");
  });

  it("cuts every secret a task can carry (TasksGetDetails.json) and keeps what is not secret", () => {
    const cut = cutTaskSecrets(details) as { properties: Json };
    const text = JSON.stringify(cut);
    for (const secret of [
      "mysecrettestvalue",
      "xxxxx",
      '"username"',
      "https://myacbvault.vault.azure.net/secrets/username",
    ])
      expect(text).not.toContain(secret);
    const p = cut.properties as {
      step: { arguments: Json[]; contextPath: string };
      trigger: { sourceTriggers: { sourceRepository: Json }[] };
      credentials: { customRegistries: Record<string, Json> };
    };
    expect(p.step.arguments).toEqual([
      { name: "mytestargument", value: "mytestvalue", isSecret: false },
      { name: "mysecrettestargument", value: REDACTED, isSecret: true },
    ]);
    expect(p.step.contextPath).toBe("src");
    expect(p.trigger.sourceTriggers[0]?.sourceRepository).toEqual({
      sourceControlType: "Github",
      repositoryUrl: "https://github.com/Azure/azure-rest-api-specs",
      branch: "master",
      sourceControlAuthProperties: { tokenType: "PAT", token: REDACTED },
    });
    expect(p.credentials.customRegistries["myregistry.azure-test.io"]).toEqual({
      userName: { type: "Opaque", value: REDACTED },
      password: { type: "Vaultsecret", value: REDACTED },
      identity: "[system]",
    });
    // The original is not changed.
    expect(JSON.stringify(details)).toContain("mysecrettestvalue");
  });
});
