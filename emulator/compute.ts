/**
 * Resource providers other than Web and Authorization. Example files are in Azure/azure-rest-api-specs:
 *
 * Microsoft.Compute (specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/):
 *   virtualMachines list / get ......... virtualMachineExamples/VirtualMachine_ListAll_MinimumSet_Gen.json, VirtualMachine_Get.json
 *                                        (VMs derived from the snapshot's extension / run-command parents; see snapshot.ts)
 *   virtualMachines/{vm}/runCommands ... runCommandExamples/VirtualMachineRunCommand_List.json, VirtualMachineRunCommand_Get.json
 *   virtualMachines/{vm}/extensions .... virtualMachineExamples/VirtualMachineExtension_List_MaximumSet_Gen.json, VirtualMachineExtension_Get_MaximumSet_Gen.json
 *   virtualMachineScaleSets ............ empty collection
 * Microsoft.ContainerInstance: containerGroups list / get, ContainerGroupsList.json / ContainerGroupsGet (ContainerInstance 2023-05-01)
 * Microsoft.ContainerRegistry: registries list / get, specification/containerregistry/resource-manager/
 *   Microsoft.ContainerRegistry/stable/2023-07-01/examples/RegistryList.json / RegistryGet.json;
 *   `loginServer` is the emulator's ACR listener for that registry (docs/emulator.md).
 * Microsoft.Resources: resourcegroups list / get, deployments and deploymentScripts (empty collections).
 * Microsoft.Automation, Microsoft.Logic, Microsoft.App, Microsoft.HybridCompute: empty collections.
 */
import { type Ctx, notFound, page, RG, type Route, rgExists, rgNotFound, route, SUB, under } from "./arm.ts";
import { isObject, type JsonObject, json, lc, type Reply } from "./util.ts";

function list(_ctx: Ctx, m: Map<string, JsonObject[]>, sub: string): JsonObject[] {
  return m.get(lc(sub)) ?? [];
}

/** Subscription-wide and resource-group lists of one collection, plus the single-item GET. */
function collection(type: string, source: (ctx: Ctx, sub: string) => JsonObject[]): Route[] {
  const t = type.replace(/\./g, "\\.");
  return [
    route("GET", `${SUB}/providers/${t}`, (ctx, m) => page(ctx, source(ctx, m[1] as string))),
    route("GET", `${RG}/providers/${t}`, (ctx, m) => {
      if (!rgExists(ctx, m[1] as string, m[2] as string)) return rgNotFound(m[2] as string);
      return page(ctx, under(source(ctx, m[1] as string), m[1] as string, m[2] as string));
    }),
    route("GET", `${RG}/providers/${t}/([^/]+)`, (ctx, m) => {
      const [sub, rg, name] = [m[1] as string, m[2] as string, m[3] as string];
      if (!rgExists(ctx, sub, rg)) return rgNotFound(rg);
      const item = under(source(ctx, sub), sub, rg).find((x) => lc(String(x.name)) === lc(name));
      return item ? json(200, item) : notFound(type, name, rg);
    }),
  ];
}

const none = () => [] as JsonObject[];

const VM = `${RG}/providers/Microsoft\\.Compute/virtualMachines/([^/]+)`;

function onVm(suffix: string, f: (ctx: Ctx, vm: JsonObject, m: RegExpExecArray) => Reply): Route {
  return route("GET", `${VM}${suffix}`, (ctx, m) => {
    const [sub, rg, name] = [m[1] as string, m[2] as string, m[3] as string];
    if (!rgExists(ctx, sub, rg)) return rgNotFound(rg);
    const vm = under(list(ctx, ctx.snap.virtualMachines, sub), sub, rg).find((x) => lc(String(x.name)) === lc(name));
    if (!vm) return notFound("Microsoft.Compute/virtualMachines", name, rg);
    return f(ctx, vm, m);
  });
}

function childrenOf(ctx: Ctx, m: Map<string, JsonObject[]>, vm: JsonObject, sub: string): JsonObject[] {
  const prefix = `${lc(String(vm.id))}/`;
  return list(ctx, m, sub).filter((x) => lc(String(x.id)).startsWith(prefix));
}

/** Run commands carry `instanceView` only with `$expand=instanceView` (VirtualMachineRunCommands_GetByVirtualMachine). */
function runCommandView(ctx: Ctx, rc: JsonObject): JsonObject {
  const expand = lc(ctx.url.searchParams.get("$expand"));
  if (expand.includes("instanceview") || !isObject(rc.properties) || !("instanceView" in rc.properties)) return rc;
  const { instanceView: _drop, ...props } = rc.properties;
  return { ...rc, properties: props };
}

function registries(ctx: Ctx, sub: string): JsonObject[] {
  const out: JsonObject[] = [];
  for (const r of ctx.snap.registries) {
    if (!r.id || lc(r.subscriptionId) !== lc(sub)) continue;
    const created = r.images
      .map((i) => String(i.attributes.createdTime ?? ""))
      .filter(Boolean)
      .sort()[0];
    const properties: JsonObject = {
      loginServer: ctx.env.loginServers.get(lc(r.name)) ?? r.snapshotLoginServer,
      provisioningState: "Succeeded",
      adminUserEnabled: false,
      publicNetworkAccess: "Enabled",
      dataEndpointEnabled: false,
      dataEndpointHostNames: [],
      privateEndpointConnections: [],
    };
    if (created) properties.creationDate = created;
    out.push({
      id: r.id,
      name: r.name,
      type: "Microsoft.ContainerRegistry/registries",
      location: "eastus",
      sku: { name: "Standard", tier: "Standard" },
      properties,
    });
  }
  return out;
}

/** Shape: specification/resources/resource-manager/Microsoft.Resources/stable/2022-09-01/examples (ResourceGroups list/get: id, name, type, location, properties.provisioningState). */
function resourceGroups(ctx: Ctx, sub: string): JsonObject[] {
  const m = ctx.snap.resourceGroups.get(lc(sub));
  if (!m) return [];
  return [...m.values()].map((name) => ({
    id: `/subscriptions/${sub}/resourceGroups/${name}`,
    name,
    type: "Microsoft.Resources/resourceGroups",
    location: "eastus",
    properties: { provisioningState: "Succeeded" },
  }));
}

export const computeRoutes: Route[] = [
  ...collection("Microsoft.Compute/virtualMachines", (ctx, sub) => list(ctx, ctx.snap.virtualMachines, sub)),
  onVm("/runCommands", (ctx, vm, m) =>
    page(
      ctx,
      childrenOf(ctx, ctx.snap.runCommands, vm, m[1] as string).map((rc) => runCommandView(ctx, rc)),
    ),
  ),
  onVm("/runCommands/([^/]+)", (ctx, vm, m) => {
    const rc = childrenOf(ctx, ctx.snap.runCommands, vm, m[1] as string).find((x) => lc(String(x.name)) === lc(m[4]));
    return rc
      ? json(200, runCommandView(ctx, rc))
      : notFound("Microsoft.Compute/virtualMachines/runCommands", `${String(vm.name)}/${m[4]}`, m[2]);
  }),
  onVm("/extensions", (ctx, vm, m) => json(200, { value: childrenOf(ctx, ctx.snap.vmExtensions, vm, m[1] as string) })),
  onVm("/extensions/([^/]+)", (ctx, vm, m) => {
    const e = childrenOf(ctx, ctx.snap.vmExtensions, vm, m[1] as string).find((x) => lc(String(x.name)) === lc(m[4]));
    return e
      ? json(200, e)
      : notFound("Microsoft.Compute/virtualMachines/extensions", `${String(vm.name)}/${m[4]}`, m[2]);
  }),
  ...collection("Microsoft.Compute/virtualMachineScaleSets", none),
  ...collection("Microsoft.ContainerInstance/containerGroups", (ctx, sub) => list(ctx, ctx.snap.containerGroups, sub)),
  ...collection("Microsoft.ContainerRegistry/registries", registries),
  ...collection("Microsoft.Automation/automationAccounts", none),
  ...collection("Microsoft.Logic/workflows", none),
  ...collection("Microsoft.App/jobs", none),
  ...collection("Microsoft.App/containerApps", none),
  ...collection("Microsoft.HybridCompute/machines", none),
  ...collection("Microsoft.Resources/deploymentScripts", none),
  route("GET", `${SUB}/resourcegroups`, (ctx, m) => page(ctx, resourceGroups(ctx, m[1] as string))),
  route("GET", RG, (ctx, m) => {
    const rg = resourceGroups(ctx, m[1] as string).find((x) => lc(String(x.name)) === lc(m[2]));
    return rg ? json(200, rg) : rgNotFound(m[2] as string);
  }),
  route("GET", `${RG}/providers/Microsoft\\.Resources/deployments`, (ctx, m) => {
    if (!rgExists(ctx, m[1] as string, m[2] as string)) return rgNotFound(m[2] as string);
    return page(ctx, []);
  }),
  route("GET", `${SUB}/providers/Microsoft\\.Resources/deployments`, (ctx) => page(ctx, [])),
];

/** Every resource the Resource Graph `Resources` table holds, with its subscription. */
export function allResources(ctx: Ctx): JsonObject[] {
  const out: JsonObject[] = [];
  for (const s of ctx.snap.subscriptions) {
    const sub = s.subscriptionId;
    for (const r of [
      ...list(ctx, ctx.snap.sites, sub),
      ...list(ctx, ctx.snap.virtualMachines, sub).map(({ resources: _r, ...vm }) => vm),
      ...list(ctx, ctx.snap.vmExtensions, sub),
      ...list(ctx, ctx.snap.runCommands, sub),
      ...list(ctx, ctx.snap.containerGroups, sub),
      ...registries(ctx, sub),
    ]) {
      out.push(r);
    }
  }
  return out;
}
