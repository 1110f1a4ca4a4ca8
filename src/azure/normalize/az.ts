/**
 * What `az … list` / `az … show` print, where it differs from the ARM body (docs/inputs.md,
 * "How to collect by hand"; samples and their sources in test/fixtures/reference/az/SOURCES.md).
 *
 * - Resources: the Python SDK models are flattened (x-ms-client-flatten), so `az vm run-command
 *   show`, `az vm extension list`, `az container list` … print `properties.*` at the top level,
 *   next to the envelope, plus a `resourceGroup` the CLI adds. `unflattenArm` puts them back
 *   under `properties` so one set of extractors reads both. Two renames undo the SDK's: a VM
 *   extension's `properties.type` is printed `typePropertiesType` (it would clash with the
 *   envelope's `type`), and each ACI container is flattened too (`containers[].image`).
 * - Shapes that carry too little to be read on their own: the items `az functionapp|webapp
 *   config appsettings list` prints ({name, value, slotSetting}: no site id) and `az acr manifest
 *   list-metadata` prints (manifest attributes: no registry or repository). `azHint` names the
 *   command that exports a readable file instead.
 */
import { isObj, type Json, str } from "./util.js";

/** Envelope members of an ARM resource; everything else a flattened model prints is a property. */
const ENVELOPE = new Set([
  "id",
  "name",
  "type",
  "location",
  "tags",
  "identity",
  "sku",
  "kind",
  "etag",
  "zones",
  "systemData",
  "managedBy",
  "plan",
  "extendedLocation",
]);

/** Members the CLI adds to what the SDK returns; not part of the resource. */
const CLI_ADDED = new Set(["resourceGroup"]);

function armScoped(id: string | undefined): boolean {
  return !!id && (/^\/subscriptions\//i.test(id) || /^\/providers\//i.test(id));
}

/** An ARM resource as a flattened SDK model prints it: id, a provider type, no `properties`. */
export function isFlattenedArm(o: Json): boolean {
  const type = str(o.type);
  return armScoped(str(o.id)) && !!type && type.includes("/") && !("properties" in o);
}

function unflattenContainers(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((c) => {
    if (!isObj(c) || isObj(c.properties)) return c;
    const { name, ...rest } = c;
    return { name, properties: rest };
  });
}

/** The ARM body a flattened az resource stands for (a new object; the input is not changed). */
export function unflattenArm(o: Json): Json {
  const typeLower = (str(o.type) ?? "").toLowerCase();
  const envelope: Json = {};
  const properties: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (CLI_ADDED.has(k)) continue;
    if (ENVELOPE.has(k)) envelope[k] = v;
    else properties[k] = v;
  }
  if (typeLower.endsWith("/extensions") && "typePropertiesType" in properties) {
    properties.type = properties.typePropertiesType;
    delete properties.typePropertiesType;
  }
  if (typeLower === "microsoft.containerinstance/containergroups") {
    // ACI's sku is a property ("Standard" / "Confidential"), not the envelope's sku object.
    if ("sku" in envelope && !isObj(envelope.sku)) {
      properties.sku = envelope.sku;
      delete envelope.sku;
    }
    for (const list of ["containers", "initContainers"]) {
      if (list in properties) properties[list] = unflattenContainers(properties[list]);
    }
  }
  return { ...envelope, properties };
}

const APPSETTING_KEYS = new Set(["name", "value", "slotSetting"]);
const MANIFEST_ATTRIBUTE_KEYS = [
  "imageSize",
  "createdTime",
  "lastUpdateTime",
  "configMediaType",
  "changeableAttributes",
  "architecture",
];

/** Why an object no classifier took cannot be read, when it is a known az shape; else undefined. */
export function azHint(o: Json): string | undefined {
  const keys = Object.keys(o);
  if (typeof o.name === "string" && "value" in o && keys.every((k) => APPSETTING_KEYS.has(k))) {
    return (
      "is one app setting as `az functionapp|webapp config appsettings list` prints it, without the site it " +
      "belongs to, so it cannot be joined to its app: export the settings with `az rest --method post --url " +
      "https://management.azure.com<site id>/config/appsettings/list?api-version=2023-12-01` instead (docs/inputs.md)"
    );
  }
  if (
    typeof o.digest === "string" &&
    o.digest.startsWith("sha256:") &&
    MANIFEST_ATTRIBUTE_KEYS.some((k) => k in o) &&
    !("registry" in o)
  ) {
    return (
      "is one manifest as `az acr manifest list-metadata` prints it, without its registry and repository: wrap " +
      'the output as {"registry": "<name>.azurecr.io", "imageName": "<repository>", "manifests": [...]} ' +
      "(the jq line in docs/inputs.md)"
    );
  }
  if (
    (typeof o.eventDataId === "string" || typeof o.eventTimestamp === "string") &&
    (typeof o.correlationId === "string" || typeof o.caller === "string" || isObj(o.claims))
  ) {
    return (
      "looks like an Activity Log event exported with `az monitor activity-log list --select` that left out " +
      "operationName or eventTimestamp: export without --select (docs/inputs.md)"
    );
  }
  return undefined;
}
