/**
 * Loads a snapshot directory (layout: demo/README.md) into what the handlers serve. Everything is
 * read once at start; timestamps are shifted here (timeshift.ts), except inside image manifests and
 * config blobs, whose bytes must keep their sha256 digests.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { exportToRest, parseResourceId, shiftEvent, subStatusNamesFrom } from "./activity.ts";
import { TimeShift } from "./timeshift.ts";
import { guidFrom, isObject, type Json, type JsonObject, lc } from "./util.ts";

export interface SubscriptionInfo {
  subscriptionId: string;
  displayName: string;
}

export interface ImageEnvelope {
  registry: string;
  repository: string;
  tags: string[];
  digest: string;
  /** The manifest exactly as served (compact JSON of the envelope's manifest). */
  manifestBytes: Buffer;
  mediaType: string;
  configDigest: string;
  configBytes: Buffer;
  /** `manifest.layers[].digest`, in order. */
  layerDigests: string[];
  /** ACR manifest attributes (time-shifted). */
  attributes: JsonObject;
}

export interface RegistryInfo {
  /** Registry name (`contosoprodacr`). */
  name: string;
  /** The login server the snapshot names (`contosoprodacr.azurecr.io`). */
  snapshotLoginServer: string;
  /** ARM id, when the snapshot names the registry anywhere (role scopes, Activity Log). */
  id: string | undefined;
  subscriptionId: string | undefined;
  images: ImageEnvelope[];
  /**
   * Layer blobs the snapshot holds (`images/<registry>/blobs/sha256/<hex>`, as in an OCI image
   * layout), by digest; a layer without one is unknown to the registry.
   */
  blobs: Map<string, Buffer>;
}

export interface Snapshot {
  dir: string;
  name: string;
  tenantId: string;
  window: { from: string; to: string };
  shift: TimeShift;
  subscriptions: SubscriptionInfo[];
  /** Management groups between the tenant root and the subscriptions (from the events' `hierarchy`). */
  managementGroups: string[];
  /** Per subscription (lower-cased id): REST EventData, newest first. */
  events: Map<string, JsonObject[]>;
  roleDefinitions: JsonObject[];
  roleAssignments: Map<string, JsonObject[]>;
  sites: Map<string, JsonObject[]>;
  /** Lower-cased site id → the appsettings resource. */
  appSettings: Map<string, JsonObject>;
  /**
   * Lower-cased site id → its child resources (functions, sourcecontrols,
   * basicPublishingCredentialsPolicies, deployments, siteextensions), from the optional
   * `functionApps/children-<sub>.json`; each goes to the site its id names.
   */
  siteChildren: Map<string, JsonObject[]>;
  runCommands: Map<string, JsonObject[]>;
  vmExtensions: Map<string, JsonObject[]>;
  containerGroups: Map<string, JsonObject[]>;
  /**
   * Per subscription: any other ARM resources (`resources/<subscription>-resources.json`): Automation
   * accounts and runbooks (a runbook's scripts under `properties["x-azure-exec-audit-content"]`,
   * served from …/content and …/draft/content), Logic Apps, deployment scripts, ACR tasks.
   */
  resources: Map<string, JsonObject[]>;
  virtualMachines: Map<string, JsonObject[]>;
  /** Per subscription: resource group names (as spelled in the snapshot) and a location. */
  resourceGroups: Map<string, Map<string, string>>;
  registries: RegistryInfo[];
  /** Counts of what was read, for the start line's stderr note and for tests. */
  counts: Record<string, number>;
}

export interface LoadOptions {
  /** "auto" (default): shift so the window ends within the last day; "none"; or a number of days. */
  timeShift?: "auto" | "none" | number;
  now?: number;
}

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, "utf8")) as Json;
}

function listValue(path: string): JsonObject[] {
  if (!existsSync(path)) return [];
  const d = readJson(path);
  return isObject(d) && Array.isArray(d.value) ? (d.value.filter(isObject) as JsonObject[]) : [];
}

function walkFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}

function sha256(b: Buffer): string {
  return `sha256:${createHash("sha256").update(b).digest("hex")}`;
}

function pushTo<T>(m: Map<string, T[]>, k: string, v: T): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

export function loadSnapshot(dir: string, opts: LoadOptions = {}): Snapshot {
  const snapPath = join(dir, "snapshot.json");
  if (!existsSync(snapPath)) throw new Error(`${dir} has no snapshot.json: not a snapshot directory`);
  const meta = readJson(snapPath);
  if (!isObject(meta)) throw new Error(`${snapPath} is not a JSON object`);
  const windowObj = isObject(meta.window) ? meta.window : {};
  const window = { from: String(windowObj.from ?? ""), to: String(windowObj.to ?? "") };
  const now = opts.now ?? Date.now();
  const ts = opts.timeShift ?? "auto";
  const days =
    ts === "none"
      ? 0
      : typeof ts === "number"
        ? ts
        : Math.max(0, Math.floor((now - Date.parse(window.to)) / 86_400_000));
  const shift = new TimeShift(Number.isFinite(days) ? days : 0);
  const subscriptions: SubscriptionInfo[] = (Array.isArray(meta.subscriptions) ? meta.subscriptions : [])
    .filter(isObject)
    .map((s) => ({ subscriptionId: String(s.subscriptionId), displayName: String(s.displayName ?? s.subscriptionId) }));
  const tenantId = String(meta.tenantId ?? "");
  const counts: Record<string, number> = {};

  // --- Activity Log ---------------------------------------------------------------------------
  const events = new Map<string, JsonObject[]>();
  const restPages: JsonObject[] = [];
  const exportLines: { sub: string; line: string; rec: JsonObject }[] = [];
  const hierarchies = new Set<string>();
  for (const s of subscriptions) {
    const sdir = join(dir, "activity", s.subscriptionId);
    for (const f of walkFiles(sdir)) {
      if (/page-\d+\.json(\.gz)?$/.test(f)) {
        const raw = readFileSync(f);
        const text = (f.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
        const page = JSON.parse(text) as Json;
        if (isObject(page) && Array.isArray(page.value)) {
          for (const e of page.value) if (isObject(e)) restPages.push({ ...e, __sub: s.subscriptionId });
        }
      } else if (/\.json$/.test(f)) {
        for (const line of readFileSync(f, "utf8").split("\n")) {
          const t = line.trim();
          if (!t) continue;
          const rec = JSON.parse(t) as Json;
          if (isObject(rec)) exportLines.push({ sub: s.subscriptionId, line: t, rec });
        }
      }
    }
  }
  const names = subStatusNamesFrom(restPages);
  const addEvent = (sub: string, e: JsonObject) => {
    const p = isObject(e.properties) ? e.properties : undefined;
    if (p && typeof p.hierarchy === "string") hierarchies.add(p.hierarchy);
    pushTo(events, lc(sub), shiftEvent(e, shift));
  };
  for (const e of restPages) {
    const sub = String(e.__sub);
    delete e.__sub;
    addEvent(sub, e);
  }
  for (const { sub, line, rec } of exportLines) addEvent(sub, exportToRest(rec, line, names));
  for (const [k, list] of events) {
    list.sort((a, b) => String(b.eventTimestamp).localeCompare(String(a.eventTimestamp)));
    counts[`events:${k}`] = list.length;
  }

  // Management groups: `hierarchy` is "<tenant>/<mg>/…/<subscription>".
  const managementGroups: string[] = [];
  for (const h of hierarchies) {
    const parts = h.split("/");
    for (const mg of parts.slice(1, -1)) if (!managementGroups.includes(mg)) managementGroups.push(mg);
  }

  // --- RBAC, App Service, resources -----------------------------------------------------------
  const roleDefinitions = listValue(join(dir, "roles", "roleDefinitions.json")).map((d) => shift.deep(d));
  const roleAssignments = new Map<string, JsonObject[]>();
  const sites = new Map<string, JsonObject[]>();
  const runCommands = new Map<string, JsonObject[]>();
  const vmExtensions = new Map<string, JsonObject[]>();
  const containerGroups = new Map<string, JsonObject[]>();
  const resources = new Map<string, JsonObject[]>();
  for (const s of subscriptions) {
    const k = lc(s.subscriptionId);
    roleAssignments.set(
      k,
      listValue(join(dir, "roles", `roleAssignments-${s.subscriptionId}.json`)).map((x) => shift.deep(x)),
    );
    sites.set(
      k,
      listValue(join(dir, "functionApps", `sites-${s.subscriptionId}.json`)).map((x) => shift.deep(x)),
    );
    runCommands.set(
      k,
      listValue(join(dir, "resources", `${s.subscriptionId}-runCommands.json`)).map((x) => shift.deep(x)),
    );
    vmExtensions.set(
      k,
      listValue(join(dir, "resources", `${s.subscriptionId}-vmExtensions.json`)).map((x) => shift.deep(x)),
    );
    containerGroups.set(
      k,
      listValue(join(dir, "resources", `${s.subscriptionId}-containerGroups.json`)).map((x) => shift.deep(x)),
    );
    resources.set(
      k,
      listValue(join(dir, "resources", `${s.subscriptionId}-resources.json`)).map((x) => shift.deep(x)),
    );
  }
  const appSettings = new Map<string, JsonObject>();
  const faDir = join(dir, "functionApps");
  if (existsSync(faDir)) {
    for (const f of readdirSync(faDir).sort()) {
      if (!f.endsWith(".appsettings.json")) continue;
      const d = readJson(join(faDir, f));
      if (isObject(d) && typeof d.id === "string") {
        appSettings.set(lc(d.id.replace(/\/config\/appsettings$/i, "")), shift.deep(d));
      }
    }
  }

  const siteChildren = new Map<string, JsonObject[]>();
  for (const s of subscriptions) {
    for (const c of listValue(join(dir, "functionApps", `children-${s.subscriptionId}.json`))) {
      const m = /^(.*\/providers\/Microsoft\.Web\/sites\/[^/]+)\/[^/]+\/[^/]+$/i.exec(String(c.id ?? ""));
      if (!m) continue;
      const key = lc(m[1] as string);
      siteChildren.set(key, [...(siteChildren.get(key) ?? []), shift.deep(c)]);
    }
  }

  // Virtual machines: the parents of the snapshot's extensions and run commands.
  const virtualMachines = new Map<string, JsonObject[]>();
  for (const s of subscriptions) {
    const k = lc(s.subscriptionId);
    const byId = new Map<string, { id: string; location: string; children: JsonObject[]; linux: boolean }>();
    for (const child of [...(vmExtensions.get(k) ?? []), ...(runCommands.get(k) ?? [])]) {
      const id = String(child.id ?? "");
      const m = /^(.*\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+)\/(extensions|runCommands)\/[^/]+$/i.exec(
        id,
      );
      if (!m) continue;
      const vmId = m[1] as string;
      const entry = byId.get(lc(vmId)) ?? {
        id: vmId,
        location: String(child.location ?? ""),
        children: [],
        linux: false,
      };
      if (lc(m[2]) === "extensions") entry.children.push(child);
      const props = isObject(child.properties) ? child.properties : {};
      if (/linux/i.test(String(props.type ?? ""))) entry.linux = true;
      byId.set(lc(vmId), entry);
    }
    const vms: JsonObject[] = [];
    for (const v of byId.values()) {
      const name = v.id.split("/").pop() as string;
      // Shape: VirtualMachine_Get.json (Compute 2024-07-01), reduced to what the snapshot supports.
      const properties: JsonObject = {
        vmId: guidFrom(createHash("sha256").update(lc(v.id)).digest("hex")),
        osProfile: { computerName: name },
        provisioningState: "Succeeded",
      };
      if (v.linux) properties.storageProfile = { osDisk: { osType: "Linux" } };
      vms.push({
        name,
        id: v.id,
        type: "Microsoft.Compute/virtualMachines",
        location: v.location,
        properties,
        resources: v.children,
      });
    }
    virtualMachines.set(k, vms);
  }

  // --- Images ---------------------------------------------------------------------------------
  const registries: RegistryInfo[] = [];
  const imagesDir = join(dir, "images");
  const allIds = collectIds([roleAssignments, runCommands, vmExtensions, containerGroups, sites, resources], events);
  if (existsSync(imagesDir)) {
    for (const reg of readdirSync(imagesDir).sort()) {
      const rdir = join(imagesDir, reg);
      if (!statSync(rdir).isDirectory()) continue;
      const images: ImageEnvelope[] = [];
      let snapshotLoginServer = `${reg}.azurecr.io`;
      for (const f of walkFiles(rdir)) {
        if (!f.endsWith(".json")) continue;
        const d = readJson(f);
        if (!isObject(d) || !isObject(d.manifest) || !isObject(d.config)) continue;
        const manifestBytes = Buffer.from(JSON.stringify(d.manifest), "utf8");
        const configBytes = Buffer.from(JSON.stringify(d.config), "utf8");
        const mcfg = isObject(d.manifest.config) ? d.manifest.config : {};
        const digest = String(d.digest ?? sha256(manifestBytes));
        if (typeof d.registry === "string") snapshotLoginServer = d.registry;
        images.push({
          registry: String(d.registry ?? snapshotLoginServer),
          repository: String(d.repository ?? ""),
          tags: Array.isArray(d.tags) ? d.tags.map(String) : [],
          digest,
          manifestBytes,
          mediaType: String(d.manifest.mediaType ?? "application/vnd.docker.distribution.manifest.v2+json"),
          configDigest: String(mcfg.digest ?? sha256(configBytes)),
          configBytes,
          layerDigests: (Array.isArray(d.manifest.layers) ? d.manifest.layers : [])
            .map((l) => (isObject(l) ? String(l.digest ?? "") : ""))
            .filter(Boolean),
          attributes: shift.deep(isObject(d.attributes) ? d.attributes : {}),
        });
      }
      const blobs = new Map<string, Buffer>();
      const blobDir = join(rdir, "blobs", "sha256");
      if (existsSync(blobDir)) {
        for (const name of readdirSync(blobDir).sort()) {
          const bytes = readFileSync(join(blobDir, name));
          // The SDK checks every blob's sha256 against its digest: a misnamed file is a broken snapshot.
          if (`sha256:${name}` !== sha256(bytes)) throw new Error(`${join(blobDir, name)} does not hash to its name`);
          blobs.set(`sha256:${name}`, bytes);
        }
      }
      const idRe = new RegExp(
        `^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.ContainerRegistry/registries/${reg})(/|$)`,
        "i",
      );
      let id: string | undefined;
      for (const x of allIds) {
        const m = idRe.exec(x);
        if (m) {
          id = m[1];
          break;
        }
      }
      registries.push({
        name: reg,
        snapshotLoginServer,
        id,
        subscriptionId: id ? parseResourceId(id).subscriptionId : undefined,
        images,
        blobs,
      });
      counts[`images:${reg}`] = images.length;
    }
  }

  // --- Resource groups ------------------------------------------------------------------------
  const resourceGroups = new Map<string, Map<string, string>>();
  for (const s of subscriptions) resourceGroups.set(lc(s.subscriptionId), new Map());
  const locs = new Map<string, string>();
  for (const list of [runCommands, vmExtensions, containerGroups, sites, resources]) {
    for (const arr of list.values()) {
      for (const r of arr)
        if (typeof r.id === "string" && typeof r.location === "string") locs.set(lc(r.id), r.location);
    }
  }
  for (const x of allIds) {
    const p = parseResourceId(x);
    if (!p.subscriptionId || !p.resourceGroup) continue;
    const m = resourceGroups.get(lc(p.subscriptionId));
    if (!m) continue;
    const key = lc(p.resourceGroup);
    if (!m.has(key)) m.set(key, p.resourceGroup);
  }

  counts.subscriptions = subscriptions.length;
  return {
    dir,
    name: String(meta.name ?? dir),
    tenantId,
    window,
    shift,
    subscriptions,
    managementGroups,
    events,
    roleDefinitions,
    roleAssignments,
    sites,
    appSettings,
    siteChildren,
    runCommands,
    vmExtensions,
    containerGroups,
    resources,
    virtualMachines,
    resourceGroups,
    registries,
    counts,
  };
}

function collectIds(maps: Map<string, JsonObject[]>[], events: Map<string, JsonObject[]>): string[] {
  const out: string[] = [];
  for (const m of maps) {
    for (const arr of m.values()) {
      for (const r of arr) {
        if (typeof r.id === "string") out.push(r.id);
        const p = isObject(r.properties) ? r.properties : {};
        if (typeof p.scope === "string") out.push(p.scope);
      }
    }
  }
  for (const arr of events.values()) for (const e of arr) if (typeof e.resourceId === "string") out.push(e.resourceId);
  return out;
}
