/** Parsers against Microsoft's and the SDKs' own samples (test/fixtures/reference, see SOURCES.md). */
import { afterAll, describe, expect, it } from "vitest";
import type {
  ActivityEvent,
  ContainerImage,
  FunctionApp,
  RoleAssignment,
  RoleDefinition,
} from "../../src/model/records.js";
import { exampleBody, readAll, ref, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const only = <K extends string>(records: { kind: string }[], kind: K) => records.filter((r) => r.kind === kind);

describe("Activity Log: REST shape (GetActivityLogsFiltered.json)", async () => {
  const file = tmp.write("rest.json", JSON.stringify(exampleBody("GetActivityLogsFiltered.json")));
  const { records, coverage } = await readAll([file]);
  const e = records[0] as ActivityEvent;
  it("maps every field the detectors use", () => {
    expect(records).toHaveLength(1);
    expect(e.kind).toBe("activity");
    expect(e.operationName).toBe("microsoft.support/supporttickets/write");
    expect(e.operation).toBe("microsoft.support/supporttickets/write");
    expect(e.time).toBe("2015-01-21T22:14:26.9792776Z");
    expect(e.status).toBe("Succeeded");
    expect(e.subStatus).toBe("Created");
    expect(e.eventName).toBe("EndRequest");
    expect(e.eventDataId).toBe("44ade6b4-3813-45e6-ae27-7420a95fa2f8");
    expect(e.id).toBe("44ade6b4-3813-45e6-ae27-7420a95fa2f8");
    expect(e.correlationId).toBe("1e121103-0ba6-4300-ac9d-952bb5d0c80f");
    expect(e.subscriptionId).toBe("089bd33f-d4ec-47fe-8ba5-0753aa5c5b33");
    expect(e.resourceGroup).toBe("MSSupportGroup");
    expect(e.resourceProvider).toBe("microsoft.support");
    expect(e.caller).toBe("admin@contoso.com");
    expect(e.callerIpAddress).toBe("192.168.35.115");
    expect(e.httpRequest?.method).toBe("PUT");
    expect(e.authorization?.role).toBe("Subscription Admin");
    expect(e.principal).toEqual({
      id: "2468adf0-8211-44e3-95xq-85137af64708",
      name: "admin@contoso.com",
      appId: "c44b4083-3bq0-49c1-b47d-974e53cbdf3c",
      type: "User",
    });
    expect(e.tenantId).toBe("1e8d8218-c5e7-4578-9acc-9abbd5d23315");
  });
  it("keeps the raw record and where it came from", () => {
    expect((e.raw as { eventDataId: string }).eventDataId).toBe(e.eventDataId);
    expect(e.origin).toMatchObject({ shape: "activity-rest", location: file });
    expect(coverage[0]).toMatchObject({ status: "complete", records: 1, from: e.time, to: e.time });
  });
});

describe("Activity Log: $select page from a real subscription (cloud-custodian cassette)", async () => {
  const file = tmp.write("select.json", JSON.stringify(ref("custodian-activity-select.json")));
  const { records } = await readAll([file]);
  it("reads sparse records and gives them a stable synthetic id", async () => {
    const e = records[0] as ActivityEvent;
    expect(e.operationLocalized).toBe("Create or Update Virtual Machine");
    expect(e.caller).toBe("john@doe.com");
    expect(e.id).toMatch(/^synthetic:[0-9a-f]{32}$/);
    const again = await readAll([file]);
    expect((again.records[0] as ActivityEvent).id).toBe(e.id);
  });
});

describe("Activity Log: diagnostic export shape (Event Hub records[] and Storage JSON Lines)", async () => {
  const example = ref("activity-export-example.json") as { records: Record<string, unknown>[] };
  const eventHub = tmp.write("eh.json", JSON.stringify(example, null, 2));
  const lines = tmp.write(
    "y=2019/m=01/d=21/h=22/m=00/PT1H.json",
    example.records.map((r) => JSON.stringify(r)).join("\n"),
  );
  it("maps resultType, resultSignature, identity and callerIpAddress", async () => {
    for (const f of [eventHub, lines]) {
      const { records } = await readAll([f]);
      const e = records[0] as ActivityEvent;
      expect(e.origin.shape).toBe("activity-export");
      expect(e.operationName).toBe("microsoft.support/supporttickets/write");
      expect(e.time).toBe("2019-01-21T22:14:26.9792776Z");
      expect(e.status).toBe("Succeeded");
      expect(e.subStatus).toBe("Succeeded.Created");
      expect(e.callerIpAddress).toBe("111.111.111.11");
      expect(e.correlationId).toBe("aaaa6666-bb77-8888-99cc-000000dddddd");
      expect(e.principal.id).toBe("123abc45-8211-44e3-95xq-85137af64708");
      expect(e.principal.appId).toBe("11112222-bbbb-3333-cccc-4444dddd5555");
      expect(e.principal.type).toBe("ServicePrincipal");
      expect(e.authorization?.evidence?.role).toBe("Azure Eventhubs Service Role");
      expect(e.subscriptionId).toBe("s1");
      expect(e.resourceGroup).toBe("MSSupportGroup");
      expect(e.properties.statusCode).toBe("Created");
    }
  });
});

describe("Activity Log: AzureActivity table rows", async () => {
  // Column names and types from reference kql/AzureActivity.columns.md; JSON columns arrive as
  // strings in exports (Properties, Claims, HTTPRequest) and as objects in *_d columns.
  const row = {
    TimeGenerated: "2026-11-19T02:15:00Z",
    OperationName: "Create or Update Virtual Machine Run Command",
    OperationNameValue: "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMANDS/WRITE",
    ActivityStatusValue: "Success",
    ActivitySubstatusValue: "Created",
    CategoryValue: "Administrative",
    Caller: "5a5a5a5a-0000-0000-0000-000000000001",
    CallerIpAddress: "203.0.113.77",
    CorrelationId: "c0ffee00-0000-0000-0000-000000000001",
    EventDataId: "e0000000-0000-0000-0000-000000000001",
    SubscriptionId: "00000000-0000-0000-0000-000000000001",
    ResourceGroup: "RG-APP",
    ResourceProviderValue: "MICROSOFT.COMPUTE",
    _ResourceId:
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-app-01/runcommands/update-agent",
    TenantId: "workspace-0000",
    Claims_d: {
      "http://schemas.microsoft.com/identity/claims/objectidentifier": "5a5a5a5a-0000-0000-0000-000000000001",
      appid: "6b6b6b6b-0000-0000-0000-000000000001",
    },
    HTTPRequest: '{"clientRequestId":"r1","clientIpAddress":"203.0.113.77","method":"PUT"}',
    Properties_d: { statusCode: "Created", eventCategory: "Administrative" },
    Authorization_d: {
      action: "Microsoft.Compute/virtualMachines/runCommands/write",
      scope: "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app",
    },
    Type: "AzureActivity",
  };
  const file = tmp.write("table.json", JSON.stringify([row]));
  it("maps the table's columns", async () => {
    const { records } = await readAll([file]);
    const e = records[0] as ActivityEvent;
    expect(e.origin.shape).toBe("activity-table");
    expect(e.operation).toBe("microsoft.compute/virtualmachines/runcommands/write");
    expect(e.status).toBe("Succeeded");
    expect(e.subStatus).toBe("Created");
    expect(e.eventDataId).toBe(row.EventDataId);
    expect(e.principal).toMatchObject({
      id: row.Caller,
      appId: "6b6b6b6b-0000-0000-0000-000000000001",
      type: "ServicePrincipal",
    });
    expect(e.httpRequest?.method).toBe("PUT");
    expect(e.resourceId).toBe(row._ResourceId);
    expect(e.tenantId).toBeUndefined(); // TenantId in this table is the workspace, not Entra
    expect(e.properties.statusCode).toBe("Created");
  });
});

describe("RBAC: role assignments and definitions", async () => {
  const rest = tmp.write("ra.json", JSON.stringify(exampleBody("RoleAssignments_ListForScope.json")));
  const custodian = tmp.write("ra-real.json", JSON.stringify(ref("custodian-role-assignments.json")));
  const defs = tmp.write("rd-real.json", JSON.stringify(ref("custodian-role-definitions.json")));
  const one = tmp.write("rd.json", JSON.stringify(exampleBody("GetRoleDefinitionById.json")));
  it("reads the REST example field for field", async () => {
    const { records } = await readAll([rest]);
    const a = records[0] as RoleAssignment;
    expect(a.kind).toBe("roleAssignment");
    expect(a.principalId).toBe("ce2ce14e-85d7-4629-bdbc-454d0519d987");
    expect(a.principalType).toBe("User");
    expect(a.roleDefinitionGuid).toBe("0b5fe924-9a61-425c-96af-cfe6e287ca2d");
    expect(a.scope).toBe("/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2");
  });
  it("reads 74 assignments and 128 definitions recorded from a real subscription", async () => {
    const { records } = await readAll([custodian, defs]);
    expect(only(records, "roleAssignment")).toHaveLength(74);
    const d = only(records, "roleDefinition") as unknown as RoleDefinition[];
    expect(d).toHaveLength(128);
    const vmc = d.find((x) => x.roleName === "Virtual Machine Contributor");
    expect(vmc?.guid).toBe("9980e02c-c2be-4d73-94e8-173b1dc7cf3c");
    expect(vmc?.roleType).toBe("BuiltInRole");
    expect(vmc?.permissions[0]?.actions).toContain("Microsoft.Compute/virtualMachines/*");
  });
  it("reads a single definition", async () => {
    const { records } = await readAll([one]);
    expect((records[0] as RoleDefinition).roleName).toBe("Role name");
  });
});

describe("Web and Function Apps", async () => {
  const site = exampleBody("GetWebApp.json") as Record<string, unknown>;
  const settings = exampleBody("ListAppSettings.json");
  const dir = tmp.write("web/site.json", JSON.stringify(site));
  tmp.write("web/settings.json", JSON.stringify(settings));
  it("joins a site with its app settings by id", async () => {
    const { records, coverage } = await readAll([`${tmp.dir}/web`]);
    const app = records[0] as FunctionApp;
    expect(dir).toContain("site.json");
    expect(app.kind).toBe("functionApp");
    expect(app.name).toBe("sitef6141");
    expect(app.isFunctionApp).toBe(false);
    expect(app.appSettings).toEqual({ Setting1: "Value1", Setting2: "Value2" });
    expect(app.resourceGroup).toBe("testrg123");
    expect(coverage[0]?.status).toBe("complete");
  });
  it("reports app settings whose site is missing", async () => {
    const f = tmp.write("orphan/settings.json", JSON.stringify(settings));
    const { coverage } = await readAll([f]);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toContain("no matching site");
  });
  it("reads sites listed from a real subscription", async () => {
    const f = tmp.write("sites-real.json", JSON.stringify(ref("custodian-sites.json")));
    const { records } = await readAll([f]);
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.kind === "functionApp")).toBe(true);
  });
});

describe("Container images", async () => {
  it("reads the ACR manifest listing (GetManifestList.json)", async () => {
    const f = tmp.write("manifests.json", JSON.stringify(exampleBody("GetManifestList.json")));
    const { records } = await readAll([f]);
    const imgs = records as ContainerImage[];
    expect(imgs).toHaveLength(2);
    expect(imgs[0]).toMatchObject({
      registry: "acrapi.azurecr-test.io",
      repository: "nanoserver",
      digest: "sha256:110d2b6c84592561338aa040b1b14b7ab81c2f9edbd564c2285dd7d70d777086",
      tags: ["4.7.2-20180905-nanoserver-1803"],
      createdTime: "2018-09-06T06:17:20.9983915Z",
    });
    expect(imgs[0]?.config).toBeUndefined();
  });
  it("reads the snapshot envelope: manifest as served plus the OCI config blob", async () => {
    const manifest = exampleBody("GetManifest.json");
    const config = ref("oci-config-example.json");
    const f = tmp.write(
      "img.json",
      JSON.stringify({
        registry: "acrapi.azurecr-test.io",
        repository: "hello-world-dangling",
        tags: ["20190628-033033z"],
        digest: "sha256:abc",
        manifest,
        config,
      }),
    );
    const { records } = await readAll([f]);
    const img = records[0] as ContainerImage;
    expect(img.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(img.config?.entrypoint).toEqual(["/bin/my-app-binary"]);
    expect(img.config?.cmd).toEqual(["--foreground", "--config", "/etc/my-app.d/default.cfg"]);
    expect(img.config?.user).toBe("alice");
    expect(img.config?.history).toEqual([
      "/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /",
      '/bin/sh -c #(nop) CMD ["sh"]',
      "/bin/sh -c apk add curl",
    ]);
    expect(img.config?.labels["com.example.project.git.commit"]).toBe("45a939b2999782a3f005621a8d0f29aa387e1d6b");
    expect(img.id).toBe("acrapi.azurecr-test.io/hello-world-dangling@sha256:abc");
  });
});
