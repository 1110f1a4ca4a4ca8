/**
 * Container images. Two inputs:
 * - our snapshot envelope (docs/snapshot.md): {registry, repository, tags, digest, manifest,
 *   config, files?, attributes}, where `manifest` is the registry's manifest as served (reference
 *   …/Azure.ContainerRegistry/stable/2021-07-01/examples/GetManifest.json), `config` the OCI
 *   image config blob (reference oci/config.md, extracted_json_blocks/config.block1.json) and
 *   `files` what the registry collector read from small layers ({layer, path, content, truncated?});
 * - the ACR manifest listing (`GET /acr/v1/{name}/_manifests`, examples/GetManifestList.json):
 *   metadata only, no config. (`az acr manifest list-metadata` prints the items without the
 *   registry and repository, so it cannot be read on its own.)
 */
import {
  type ContainerImage,
  type ImageConfig,
  type ImageFile,
  MAX_PAYLOAD_CHARS,
  type Origin,
} from "../../model/records.js";
import { isObj, type Json, str, strArray, stringRecord, stripUndefined } from "./util.js";

export function isImageEnvelope(o: Json): boolean {
  return typeof o.registry === "string" && typeof o.repository === "string" && (isObj(o.config) || isObj(o.manifest));
}

export function isManifestListing(o: Json): boolean {
  return typeof o.registry === "string" && typeof o.imageName === "string" && Array.isArray(o.manifests);
}

export function parseImageConfig(c: Json): ImageConfig {
  const inner = isObj(c.config) ? c.config : {};
  const history: string[] = [];
  if (Array.isArray(c.history)) {
    for (const h of c.history) if (isObj(h) && typeof h.created_by === "string") history.push(h.created_by);
  }
  return stripUndefined({
    entrypoint: strArray(inner.Entrypoint),
    cmd: strArray(inner.Cmd),
    env: strArray(inner.Env),
    user: str(inner.User) || undefined,
    workingDir: str(inner.WorkingDir) || undefined,
    labels: stringRecord(inner.Labels),
    history,
    created: str(c.created),
    architecture: str(c.architecture),
    os: str(c.os),
  });
}

/** Envelope `files`: each entry's layer is placed in the manifest's `layers` when it is there. */
function parseFiles(o: Json, manifest: Json | undefined): ImageFile[] | undefined {
  if (!Array.isArray(o.files)) return undefined;
  const layers = manifest && Array.isArray(manifest.layers) ? manifest.layers : [];
  const out: ImageFile[] = [];
  for (const f of o.files) {
    if (!isObj(f)) continue;
    const path = str(f.path);
    const layer = str(f.layer);
    const content = typeof f.content === "string" ? f.content : undefined;
    if (!path || !layer || content === undefined) continue;
    const layerIndex = layers.findIndex((l) => isObj(l) && l.digest === layer);
    const cut = content.length > MAX_PAYLOAD_CHARS;
    out.push(
      stripUndefined({
        path,
        layer,
        layerIndex: layerIndex >= 0 ? layerIndex : undefined,
        content: cut ? content.slice(0, MAX_PAYLOAD_CHARS) : content,
        truncated: cut || f.truncated === true,
      }),
    );
  }
  return out;
}

export function toImage(o: Json, origin: Origin): ContainerImage | undefined {
  const registry = str(o.registry);
  const repository = str(o.repository);
  if (!registry || !repository) return undefined;
  const attributes = isObj(o.attributes) ? o.attributes : {};
  const digest = str(o.digest) ?? str(attributes.digest);
  const manifest = isObj(o.manifest) ? o.manifest : undefined;
  const tags = strArray(o.tags).length > 0 ? strArray(o.tags) : strArray(attributes.tags);
  const img: ContainerImage = {
    kind: "containerImage",
    id: `${registry}/${repository}${digest ? `@${digest}` : tags[0] ? `:${tags[0]}` : ""}`,
    registry,
    repository,
    tags,
    digest,
    createdTime: str(attributes.createdTime),
    mediaType: manifest ? str(manifest.mediaType) : str(attributes.mediaType),
    config: isObj(o.config) ? parseImageConfig(o.config) : undefined,
    files: parseFiles(o, manifest),
    origin,
    raw: o,
  };
  return Object.freeze(stripUndefined(img));
}

export function fromManifestListing(o: Json, origin: Origin): ContainerImage[] {
  const registry = str(o.registry) as string;
  const repository = str(o.imageName) as string;
  const out: ContainerImage[] = [];
  for (const m of o.manifests as unknown[]) {
    if (!isObj(m)) continue;
    const img = toImage({ registry, repository, attributes: m, tags: m.tags }, origin);
    if (img) out.push(img);
  }
  return out;
}
