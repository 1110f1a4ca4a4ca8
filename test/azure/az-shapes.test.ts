/**
 * What `az … list/show` and `az rest` print, read through the files collector and `classify`
 * (fixtures: test/fixtures/reference/az, sources in its SOURCES.md; how to export: docs/inputs.md).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { derivePayloads } from "../../src/azure/enrich/payloads.js";
import { classify } from "../../src/azure/normalize/index.js";
import type {
  ActivityEvent,
  ArmResource,
  ContainerImage,
  FunctionApp,
  RoleAssignment,
  RoleDefinition,
} from "../../src/model/records.js";
import { REF, readAll } from "../helpers.js";

const AZ = join(REF, "az");
const az = (name: string) => join(AZ, name);
const SUB0 = "00000000-0000-0000-0000-000000000000";

describe("az monitor activity-log list (recorded role assignment create, azure-cli test_role_assignment_audits)", async () => {
  const { records, coverage } = await readAll([az("activity-log-list.az.json")]);
  const events = records as ActivityEvent[];
  it("reads both events of the operation", () => {
    expect(events.map((e) => e.kind)).toEqual(["activity", "activity"]);
    expect(coverage[0]).toMatchObject({ status: "complete", records: 2 });
    expect(coverage[0]?.from).toBe("2022-05-07T07:11:45.1096667Z");
    expect(coverage[0]?.to).toBe("2022-05-07T07:11:48.6409407Z");
  });
  it("maps ids, operation, status, time and principal", () => {
    const [ended, started] = events as [ActivityEvent, ActivityEvent];
    expect(started).toMatchObject({
      id: "084ff927-6c49-4561-873e-8e46cf3a0682",
      operation: "microsoft.authorization/roleassignments/write",
      status: "Started",
      eventName: "BeginRequest",
      time: "2022-05-07T07:11:45.1096667Z",
      correlationId: "0780a3f7-aa75-49f7-a81c-03bb49dc360b",
      operationId: "0780a3f7-aa75-49f7-a81c-03bb49dc360b",
      subscriptionId: "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
      resourceGroup: "cli_role_assign4hfuz62fyytpihlf3o6v2kiie5n67pynawertdufbh3k6a2igcw3xngbfq44",
      callerIpAddress: "167.220.255.27",
      tenantId: "54826b22-38d6-4fb2-bad9-b7b93a3e9c5a",
    });
    expect(ended).toMatchObject({
      id: "6f1d8187-6e78-4a16-a559-e0c46e626cb4",
      status: "Succeeded",
      subStatus: "Created",
      time: "2022-05-07T07:11:48.6409407Z",
    });
    for (const e of events) {
      expect(e.principal).toEqual({
        id: "6d97229a-391f-473a-893f-f0608b592d7b",
        name: "rolelivetest@azuresdkteam.onmicrosoft.com",
        appId: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        type: "User",
      });
      expect(e.origin.shape).toBe("activity-rest");
    }
    expect(String(started.properties.requestbody)).toContain("9797af77-99ee-4c2b-a60a-31e144f2925b");
  });
  it("names --select as the cause when a selected event lacks operationName", () => {
    const selected = { eventDataId: "6f1d8187-6e78-4a16-a559-e0c46e626cb4", correlationId: "0780a3f7", caller: "x" };
    const c = classify(selected, { location: "sel.json" });
    expect("error" in c && c.error).toMatch(/--select/);
  });
});

describe("az role assignment list / az role definition list (flattened)", async () => {
  const { records } = await readAll([az("role-assignment-list.az.json"), az("role-definition-list.az.json")]);
  it("reads the assignment with the names az fills in", () => {
    const a = records.find((r) => r.kind === "roleAssignment") as RoleAssignment;
    expect(a).toMatchObject({
      id: `/subscriptions/${SUB0}/resourceGroups/cli_role_audit000001/providers/Microsoft.Authorization/roleAssignments/88888888-0000-0000-0000-000000000001`,
      scope: `/subscriptions/${SUB0}/resourceGroups/cli_role_audit000001`,
      principalId: "009ba378-c157-40c1-9e2e-dc4496d2a37e",
      principalType: "User",
      principalName: "testuser000002@azuresdkteam.onmicrosoft.com",
      roleDefinitionGuid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
      roleDefinitionName: "Contributor",
      createdOn: "2022-05-07T07:11:20.2610540Z",
    });
    expect(a.origin.shape).toBe("role-assignment");
  });
  it("reads the definition with roleType and permissions", () => {
    const d = records.find((r) => r.kind === "roleDefinition") as RoleDefinition;
    expect(d).toMatchObject({
      guid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
      roleName: "Contributor",
      roleType: "BuiltInRole",
    });
    expect(d.permissions[0]?.actions).toEqual(["*"]);
    expect(d.permissions[0]?.notActions).toContain("Microsoft.Authorization/*/Write");
  });
});

describe("az container list (flattened) and az rest GET …/containerGroups (ARM)", async () => {
  const flat = await readAll([az("container-list.az.json")]);
  const rest = await readAll([az("container-groups.rest.json")]);
  const id = `/subscriptions/${SUB0}/resourceGroups/clitest.rg000001/providers/Microsoft.ContainerInstance/containerGroups/clicontainer000002`;
  it("reads both as the same resource", () => {
    const a = flat.records[0] as ArmResource;
    const b = rest.records[0] as ArmResource;
    expect(a).toMatchObject({ kind: "resource", id, typeLower: "microsoft.containerinstance/containergroups" });
    expect(a.resourceGroup).toBe("clitest.rg000001");
    expect(a.origin.shape).toBe("arm-resource-az");
    expect(b.origin.shape).toBe("arm-resource");
    expect(a.properties.osType).toBe("Linux");
    expect(a.properties.sku).toBe("Standard");
    expect((a.properties.containers as { properties: { image: string } }[])[0]?.properties.image).toBe("alpine:latest");
  });
  it("extracts the same image and command payloads from both", () => {
    const payloads = (r: ArmResource) => derivePayloads(r).map((p) => [p.payloadKind, p.content, p.path]);
    const expected = [
      ["image", "alpine:latest", "properties.containers[0].properties.image"],
      [
        "command",
        "/bin/sh -c while true; do echo hello; sleep 20; done",
        "properties.containers[0].properties.command",
      ],
    ];
    expect(payloads(flat.records[0] as ArmResource)).toEqual(expected);
    expect(payloads(rest.records[0] as ArmResource)).toEqual(expected);
  });
  it("keeps what az printed as the evidence", () => {
    expect((flat.records[0] as ArmResource).raw).toMatchObject({ resourceGroup: "clitest.rg000001" });
  });
});

describe("az vm run-command show (flattened) and az rest GET …/runCommands (ARM)", async () => {
  const flat = await readAll([az("vm-run-command-show.az.json")]);
  const rest = await readAll([az("vm-run-commands.rest.json")]);
  it("reads the script from both", () => {
    for (const { records } of [flat, rest]) {
      const r = records[0] as ArmResource;
      expect(r.typeLower).toBe("microsoft.compute/virtualmachines/runcommands");
      expect(r.resourceGroup).toBe("myResourceGroup");
      expect(r.properties.runAsUser).toBe("user1");
      expect(derivePayloads(r).map((p) => [p.payloadKind, p.path])).toEqual([["script", "properties.source.script"]]);
    }
  });
});

describe("az vm extension list (printed output)", async () => {
  const { records } = await readAll([az("vm-extension-list.az.json")]);
  it("puts typePropertiesType back as properties.type", () => {
    const r = records[0] as ArmResource;
    expect(r).toMatchObject({ name: "ChaosAgent", typeLower: "microsoft.compute/virtualmachines/extensions" });
    expect(r.properties.type).toBe("ChaosWindowsAgent");
    expect(r.properties.publisher).toBe("Microsoft.Azure.Chaos");
    expect(r.properties.settings).toMatchObject({ profile: "<PROFILE_GUID>" });
    expect("typePropertiesType" in r.properties).toBe(false);
    expect("resourceGroup" in r.properties).toBe(false);
  });
});

describe("az webapp|functionapp list (flattened) with app settings from az rest", async () => {
  it("joins the settings to the flattened site by id", async () => {
    const { records, coverage } = await readAll([az("webapp-list.az.json"), az("sitef6141.appsettings.rest.json")]);
    const app = records.find((r) => r.kind === "functionApp") as FunctionApp;
    expect(app).toMatchObject({
      id: "/subscriptions/34adfa4f-cedf-4dc0-ba29-b6d1a69ab345/resourceGroups/testrg123/providers/Microsoft.Web/sites/sitef6141",
      name: "sitef6141",
      resourceGroup: "testrg123",
      siteKind: "app",
      isFunctionApp: false,
      state: "Running",
      appSettings: { Setting1: "Value1", Setting2: "Value2" },
    });
    expect(coverage.every((c) => c.status === "complete")).toBe(true);
  });
  it("says which command to use for `config appsettings list` output", async () => {
    const { records, coverage } = await readAll([az("webapp-config-appsettings-list.az.json")]);
    expect(records).toHaveLength(0);
    expect(coverage[0]?.status).toBe("partial");
    const c = classify({ name: "Setting1", value: "Value1", slotSetting: false }, { location: "x.json" });
    expect("error" in c && c.error).toMatch(/az rest --method post --url .*\/config\/appsettings\/list/);
  });
});

describe("az acr manifest list-metadata", async () => {
  it("explains how to wrap the bare list", () => {
    const c = classify(
      { digest: "sha256:110d2b6c84592561338aa040b1b14b7ab81c2f9edbd564c2285dd7d70d777086", imageSize: 2401606 },
      { location: "m.json" },
    );
    expect("error" in c && c.error).toMatch(/"registry".*"imageName".*"manifests"/);
  });
  it("reads the wrapped list as images", async () => {
    const { records } = await readAll([az("acr-manifest-list-metadata.wrapped.json")]);
    const imgs = records as ContainerImage[];
    expect(imgs.map((i) => i.id)).toEqual([
      "acrapi.azurecr-test.io/nanoserver@sha256:110d2b6c84592561338aa040b1b14b7ab81c2f9edbd564c2285dd7d70d777086",
      "acrapi.azurecr-test.io/nanoserver@sha256:7af5cd1dde3e8f5c2c9103860afa4ca871a6075373b6564b0e7b1b47866dab52",
    ]);
    expect(imgs[0]?.tags).toEqual(["4.7.2-20180905-nanoserver-1803"]);
    expect(imgs[0]?.createdTime).toBe("2018-09-06T06:17:20.9983915Z");
  });
  it("reports each bare item as unreadable", async () => {
    const { records, coverage } = await readAll([az("acr-manifest-list-metadata.az.json")]);
    expect(records).toHaveLength(0);
    expect(coverage[0]).toMatchObject({ status: "partial", unreadable: 2 });
  });
});
