/**
 * Container images in Azure Container Registry. The registries of each subscription come from
 * ARM (@azure/arm-containerregistry: their ids and login servers, yielded as resource records so
 * attribution can tie a login server to its registry); then, per registry, the data plane
 * (@azure/container-registry): repositories, every manifest including untagged ones, and for
 * each digest its manifest and config blob (what the image runs: entrypoint, cmd, env, history),
 * and, when a loaded rule reads payloads, the wanted files of its small layers (layers.ts). Each
 * image becomes our documented image envelope (docs/inputs.md) and is read by the same normaliser
 * as a snapshot file. Manifests, configs and layers are looked up by digest in a DigestCache
 * first: the same digest in two repositories or registries is fetched once per scan, and with
 * the state store's cache not again in later scans.
 */
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { ContainerRegistryClient, ContainerRegistryContentClient } from "@azure/container-registry";
import { BodyCapture, explain, stripQuery } from "../../azure/live/arm.js";
import { eachSubscription } from "../../azure/live/each.js";
import { retryCutBody } from "../../azure/live/retry.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { toImage } from "../../azure/normalize/images.js";
import { toArmResource } from "../../azure/normalize/resources.js";
import { isObj, type Json, str } from "../../azure/normalize/util.js";
import type { CollectedItem } from "../../model/records.js";
import { type DigestCache, type LayerFacts, MemoryDigestCache } from "../../store/digest-cache.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";
import { DEFAULT_MAX_LAYER_BYTES, LAYER_MEDIA_TYPES, LAYER_READER, readLayer } from "./layers.js";

const NEEDS_REGISTRIES = { what: "container registries", role: "Reader (Microsoft.ContainerRegistry/registries/read)" };
const NEEDS_IMAGES = {
  what: "repositories and manifests",
  role: "AcrPull or Container Registry Repository Reader on the registry",
};

/** Config blobs larger than this are not read (an image config is a few kilobytes). */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

async function readCapped(stream: NodeJS.ReadableStream, cap: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > cap) throw new Error(`blob is larger than ${cap} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

export interface RegistryOptions {
  /** Layers whose compressed size is above this are not read; 0 reads none. Default 4 MiB. */
  maxLayerBytes?: number;
  /** Digest cache shared by every registry of the scan; default a new in-memory one. */
  cache?: DigestCache;
}

type ContentClient = Pick<ContainerRegistryContentClient, "downloadBlob">;

/**
 * The wanted files of an image's small gzip-tar layers, from the cache or downloaded; problems
 * (a corrupt or oversized layer, a failed download) are located on the registry's coverage.
 */
async function layerFiles(
  manifest: Json,
  where: { endpoint: string; repo: string; digest: string },
  content: ContentClient,
  cache: DigestCache,
  maxLayerBytes: number,
  tally: ScopeTally,
  skipped: { n: number },
  abortSignal?: AbortSignal,
): Promise<Json[]> {
  const out: Json[] = [];
  const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
  for (const [i, l] of layers.entries()) {
    const digest = isObj(l) ? str(l.digest) : undefined;
    const size = isObj(l) && typeof l.size === "number" ? l.size : undefined;
    if (!digest || size === undefined || !LAYER_MEDIA_TYPES.has(str(l.mediaType) ?? "") || size > maxLayerBytes) {
      skipped.n++;
      continue;
    }
    const url = `${where.endpoint}/v2/${where.repo}/blobs/${digest}`;
    let facts: LayerFacts | undefined = cache.get("layer", digest);
    if (facts?.reader !== LAYER_READER) {
      try {
        const read = await retryCutBody(async () => {
          const blob = await content.downloadBlob(digest, { abortSignal });
          return readLayer(blob.content, size, abortSignal);
        }, abortSignal);
        facts = { reader: LAYER_READER, ...read };
        cache.put("layer", digest, facts);
      } catch (e) {
        if (abortSignal?.aborted) throw e;
        tally.partFailed(
          { url },
          `layer ${i} of ${where.digest} was not read: ${explain(e, `layer ${digest}`, NEEDS_IMAGES)}`,
        );
        continue;
      }
    }
    if (facts.problem) tally.partFailed({ url }, `layer ${i} of ${where.digest} ${facts.problem}`);
    for (const f of facts.files)
      out.push({ layer: digest, path: f.path, content: f.content, ...(f.truncated ? { truncated: true } : {}) });
  }
  return out;
}

export class RegistryCollector implements Collector {
  readonly source = "registry" as const;
  private readonly maxLayerBytes: number;
  private readonly cache: DigestCache;

  constructor(
    private readonly session: AzureSession,
    private readonly scope: LiveScope,
    options: RegistryOptions = {},
  ) {
    this.maxLayerBytes = options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
    this.cache = options.cache ?? new MemoryDigestCache();
  }

  async plan(options: PlanOptions = {}): Promise<CollectionPlan> {
    const subs = await this.scope.subscriptions(options.abortSignal);
    return { source: this.source, scopes: subs.map((s) => s.id) };
  }

  collect(plan: CollectionPlan, options: CollectOptions): AsyncIterable<readonly CollectedItem[]> {
    const session = this.session;
    const abortSignal = options.abortSignal;
    const cache = this.cache;
    const maxLayerBytes = this.maxLayerBytes;
    // Layer files feed only payload rules: without one loaded, no layer is downloaded.
    const readLayers = maxLayerBytes > 0 && (!options.ruleKinds || options.ruleKinds.has("payload"));
    return eachSubscription(this.source, plan, options, async function* (s) {
      const capture = new BodyCapture();
      const arm = new ContainerRegistryManagementClient(
        session.credential,
        s.id,
        session.armClientOptions(capture.policy),
      );
      const registries: { id: string; name: string; loginServer: string }[] = [];
      const out: CollectedItem[] = [];
      await s.attempt(NEEDS_REGISTRIES, async () => {
        for await (const page of capture.pages(arm.registries.list({ abortSignal }))) {
          for (const [i, item] of page.items.entries()) {
            const r = toArmResource(item, { shape: "arm-resource", location: stripQuery(page.url), index: i + 1 });
            const props = isObj(item.properties) ? item.properties : {};
            const loginServer = str(props.loginServer);
            if (!r || !loginServer) {
              s.scope.unreadableRecord(
                { url: stripQuery(page.url), line: i + 1 },
                "is not a registry with a login server",
              );
              continue;
            }
            s.scope.record();
            out.push(r);
            registries.push({ id: r.id, name: r.name, loginServer });
          }
        }
      });
      if (out.length > 0) yield out;
      const client = session.armClientOptions();
      const dataOptions = {
        audience: session.cloud.acrAudience,
        retryOptions: client.retryOptions,
        additionalPolicies: client.additionalPolicies,
        userAgentOptions: client.userAgentOptions,
      };
      for (const reg of registries) {
        const endpoint = `https://${reg.loginServer}`;
        const tally = options.tally.open("registry", `registry ${reg.name} (${reg.loginServer})`);
        const images: CollectedItem[] = [];
        const skipped = { n: 0 };
        try {
          const registry = new ContainerRegistryClient(endpoint, session.credential, dataOptions);
          for await (const repo of registry.listRepositoryNames({ abortSignal })) {
            const content = new ContainerRegistryContentClient(endpoint, repo, session.credential, dataOptions);
            for await (const m of registry.getRepository(repo).listManifestProperties({ abortSignal })) {
              // The manifest and its config blob are read outside the pipeline's body retry
              // (the blob is a stream), so a cut-off answer is retried here as a whole.
              const { manifest, mediaType, config } = await retryCutBody(async () => {
                let got = cache.get("manifest", m.digest);
                if (!got) {
                  const served = await content.getManifest(m.digest, { abortSignal });
                  const parsed: unknown = JSON.parse(served.content.toString("utf8"));
                  if (!isObj(parsed)) throw new Error(`manifest ${m.digest} is not a JSON object`);
                  got = { manifest: parsed, ...(served.mediaType ? { mediaType: served.mediaType } : {}) };
                  cache.put("manifest", m.digest, got);
                }
                const manifest = got.manifest as Json;
                const cfgDigest = isObj(manifest.config) ? str(manifest.config.digest) : undefined;
                let config = cfgDigest ? (cache.get("config", cfgDigest) as Json | undefined) : undefined;
                if (cfgDigest && !config) {
                  const blob = await content.downloadBlob(cfgDigest, { abortSignal });
                  const parsed: unknown = JSON.parse(
                    (await readCapped(blob.content, MAX_CONFIG_BYTES)).toString("utf8"),
                  );
                  if (isObj(parsed)) {
                    config = parsed;
                    cache.put("config", cfgDigest, parsed);
                  }
                }
                return { manifest, mediaType: got.mediaType, config };
              }, abortSignal);
              const files = readLayers
                ? await layerFiles(
                    manifest,
                    { endpoint, repo, digest: m.digest },
                    content,
                    cache,
                    maxLayerBytes,
                    tally,
                    skipped,
                    abortSignal,
                  )
                : [];
              const envelope: Json = {
                registry: reg.loginServer,
                repository: repo,
                tags: [...(m.tags ?? [])],
                digest: m.digest,
                manifest,
                ...(config ? { config } : {}),
                ...(files.length > 0 ? { files } : {}),
                attributes: {
                  createdTime: m.createdOn.toISOString(),
                  lastUpdateTime: m.lastUpdatedOn.toISOString(),
                  ...(mediaType ? { mediaType } : {}),
                },
              };
              const img = toImage(envelope, {
                shape: "image",
                location: `${endpoint}/v2/${repo}/manifests/${m.digest}`,
              });
              if (!img) {
                tally.unreadableRecord(
                  { url: `${endpoint}/v2/${repo}/manifests/${m.digest}` },
                  "is not an image manifest",
                );
                continue;
              }
              tally.record(img.createdTime);
              images.push(img);
            }
          }
        } catch (e) {
          if (abortSignal?.aborted) throw e;
          tally.missed(explain(e, `registry ${reg.name}`, NEEDS_IMAGES));
        }
        if (readLayers && skipped.n > 0)
          tally.note(
            `${skipped.n} image layer(s) not searched for files: larger than --max-layer-bytes (${maxLayerBytes}) or not a gzip tar`,
          );
        if (images.length > 0) yield images;
      }
    });
  }
}
