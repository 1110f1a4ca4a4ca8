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
 * Microsoft.Resources: resourcegroups list / get, deployments (empty); deploymentScripts from the
 *   snapshot's `resources/<sub>-resources.json` (DeploymentScripts_Get, Resources 2023-08-01).
 * Microsoft.Logic workflows, from the same file (Workflows_Get, Logic 2019-05-01).
 * Microsoft.Automation (specification/automation/resource-manager/Microsoft.Automation/stable/2023-11-01):
 *   automationAccounts and their runbooks (listRunbooksByAutomationAccount.json), from the same file;
 *   …/runbooks/{name}/content and …/draft/content answer the script as `text/powershell`
 *   (getRunbookContent.json, getRunbookDraftContent.json) from the runbook's
 *   `properties["x-azure-exec-audit-content"].published` / `.draft`, 404 when it has none; the key
 *   itself is never served (ARM has no such property).
 * Microsoft.ContainerRegistry registries/{name}/tasks (Tasks_List, ContainerRegistryTasks 2019-04-01
 *   TasksList.json), from the same file; empty for a registry without tasks.
 * Microsoft.App, Microsoft.HybridCompute: empty collections.
 */
import { type Ctx, notFound, page, RG, type Route, rgExists, rgNotFound, route, SUB, under } from "./arm.ts";
import { isObject, type JsonObject, json, lc, type Reply } from "./util.ts";

function list(_ctx: Ctx, m: Map<string, JsonObject[]>, sub: string): JsonObject[] {
  return m.get(lc(sub)) ?? [];
}

/** Where a snapshot keeps a runbook's scripts (src/azure/enrich/payloads.ts RUNBOOK_CONTENT_KEY). */
const RUNBOOK_CONTENT_KEY = "x-azure-exec-audit-content";

/** A resource as ARM serves it: without the snapshot's runbook scripts. */
function served(r: JsonObject): JsonObject {
  if (!isObject(r.properties) || !(RUNBOOK_CONTENT_KEY in r.properties)) return r;
  const { [RUNBOOK_CONTENT_KEY]: _scripts, ...properties } = r.properties;
  return { ...r, properties };
}

/** The snapshot's other resources of one type (ARM types compare case-insensitively). */
function ofType(ctx: Ctx, sub: string, type: string): JsonObject[] {
  return list(ctx, ctx.snap.resources, sub).filter((r) => lc(String(r.type)) === lc(type));
}

/** Children of one type whose id is under `parentId`. */
function childrenOfType(ctx: Ctx, sub: string, type: string, parentId: string): JsonObject[] {
  const prefix = `${lc(parentId)}/`;
  return ofType(ctx, sub, type).filter((r) => lc(String(r.id)).startsWith(prefix));
}

const ACCOUNT = `${RG}/providers/Microsoft\\.Automation/automationAccounts/([^/]+)`;
const RUNBOOK_TYPE = "Microsoft.Automation/automationAccounts/runbooks";

function runbooksOf(ctx: Ctx, m: RegExpExecArray): JsonObject[] | undefined {
  const [sub, rg, account] = [m[1] as string, m[2] as string, m[3] as string];
  const acc = under(ofType(ctx, sub, "Microsoft.Automation/automationAccounts"), sub, rg).find(
    (x) => lc(String(x.name)) === lc(account),
  );
  return acc ? childrenOfType(ctx, sub, RUNBOOK_TYPE, String(acc.id)) : undefined;
}

function onRunbook(suffix: string, f: (rb: JsonObject) => Reply): Route {
  return route("GET", `${ACCOUNT}/runbooks/([^/]+)${suffix}`, (ctx, m) => {
    const runbooks = runbooksOf(ctx, m);
    if (!runbooks) return notFound("Microsoft.Automation/automationAccounts", m[3] as string, m[2]);
    const rb = runbooks.find((x) => lc(String(x.name)) === lc(m[4]));
    return rb ? f(rb) : notFound(RUNBOOK_TYPE, `${m[3]}/${m[4]}`, m[2]);
  });
}

/** The script of a runbook as Runbook_GetContent / RunbookDraft_GetContent answer it. */
function runbookScript(rb: JsonObject, which: "published" | "draft"): Reply {
  const scripts = isObject(rb.properties) ? rb.properties[RUNBOOK_CONTENT_KEY] : undefined;
  const text = isObject(scripts) ? scripts[which] : undefined;
  if (typeof text !== "string")
    return notFound(
      which === "draft" ? `${RUNBOOK_TYPE}/draft` : `${RUNBOOK_TYPE}/content`,
      String(rb.name),
      undefined,
    );
  return { status: 200, body: text, headers: { "content-type": "text/powershell" } };
}

const REGISTRY = `${RG}/providers/Microsoft\\.ContainerRegistry/registries/([^/]+)`;

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
  ...collection("Microsoft.Automation/automationAccounts", (ctx, sub) =>
    ofType(ctx, sub, "Microsoft.Automation/automationAccounts"),
  ),
  route("GET", `${ACCOUNT}/runbooks`, (ctx, m) => {
    const runbooks = runbooksOf(ctx, m);
    return runbooks
      ? page(ctx, runbooks.map(served))
      : notFound("Microsoft.Automation/automationAccounts", m[3] as string, m[2]);
  }),
  onRunbook("", (rb) => json(200, served(rb))),
  onRunbook("/content", (rb) => runbookScript(rb, "published")),
  onRunbook("/draft/content", (rb) => runbookScript(rb, "draft")),
  route("GET", `${REGISTRY}/tasks`, (ctx, m) => {
    const id = `/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.ContainerRegistry/registries/${m[3]}`;
    return page(ctx, childrenOfType(ctx, m[1] as string, "Microsoft.ContainerRegistry/registries/tasks", id));
  }),
  ...collection("Microsoft.Logic/workflows", (ctx, sub) => ofType(ctx, sub, "Microsoft.Logic/workflows")),
  ...collection("Microsoft.App/jobs", none),
  ...collection("Microsoft.App/containerApps", none),
  ...collection("Microsoft.HybridCompute/machines", none),
  ...collection("Microsoft.Resources/deploymentScripts", (ctx, sub) =>
    ofType(ctx, sub, "Microsoft.Resources/deploymentScripts"),
  ),
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
      ...list(ctx, ctx.snap.resources, sub).map(served),
    ]) {
      out.push(r);
    }
  }
  return out;
}
