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
 * Each registry's ACR tasks (their steps, encoded task files and source triggers: payloads) are
 * listed from ARM too; @azure/arm-containerregistry 12 has no tasks, so through ArmReader.
 */
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { ContainerRegistryClient, ContainerRegistryContentClient } from "@azure/container-registry";
import { ArmReader, BodyCapture, explain, type Needs, stripQuery } from "../../azure/live/arm.js";
import { eachSubscription } from "../../azure/live/each.js";
import { retryCutBody } from "../../azure/live/retry.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { toImage } from "../../azure/normalize/images.js";
import { toArmResource } from "../../azure/normalize/resources.js";
import { isObj, type Json, str } from "../../azure/normalize/util.js";
import type { CollectedItem } from "../../model/records.js";
import { type DigestCache, type LayerFacts, MemoryDigestCache } from "../../store/digest-cache.js";
import { REDACTED } from "../../util/redact.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";
import { DEFAULT_MAX_LAYER_BYTES, LAYER_MEDIA_TYPES, LAYER_READER, readLayer } from "./layers.js";

const NEEDS_REGISTRIES = { what: "container registries", role: "Reader (Microsoft.ContainerRegistry/registries/read)" };
const NEEDS_IMAGES = {
  what: "repositories and manifests",
  role: "AcrPull or Container Registry Repository Reader on the registry",
};

const NEEDS_TASKS: Needs = {
  what: "ACR tasks",
  role: "Reader (Microsoft.ContainerRegistry/registries/tasks/read)",
};

/**
 * Tasks_List, ContainerRegistryTasks stable 2019-04-01 (examples/TasksList.json): the list carries
 * each task's step (encodedTaskContent included, as `az acr task show` shows it) without secrets.
 * Tasks_GetDetails (POST …/tasks/{name}/listDetails) would add them, and is not called.
 */
export const TASKS_API = "2019-04-01";

function cutSecretObject(o: unknown): unknown {
  return isObj(o) && "value" in o ? { ...o, value: REDACTED } : o;
}

/**
 * A task as rules may see it: whatever secrets the body carries are cut before it is kept, as
 * app settings are (app-service/index.ts). The fields are those of the 2019-04-01 Task model
 * (TasksGetDetails.json shows them filled): step `contextAccessToken`, `arguments[]` / `values[]`
 * marked `isSecret`, source triggers' `sourceControlAuthProperties` (token, refreshToken) and
 * custom registry `userName` / `password` secret objects.
 */
export function cutTaskSecrets(task: Json): Json {
  const p = isObj(task.properties) ? task.properties : undefined;
  if (!p) return task;
  const props: Json = { ...p };
  if (isObj(p.step)) {
    const step: Json = { ...p.step };
    if ("contextAccessToken" in step) step.contextAccessToken = REDACTED;
    for (const k of ["arguments", "values"]) {
      const list = step[k];
      if (Array.isArray(list))
        step[k] = list.map((a) => (isObj(a) && a.isSecret === true && "value" in a ? { ...a, value: REDACTED } : a));
    }
    props.step = step;
  }
  if (isObj(p.trigger) && Array.isArray(p.trigger.sourceTriggers)) {
    props.trigger = {
      ...p.trigger,
      sourceTriggers: p.trigger.sourceTriggers.map((t) => {
        if (!isObj(t) || !isObj(t.sourceRepository) || !isObj(t.sourceRepository.sourceControlAuthProperties)) return t;
        const auth: Json = { ...t.sourceRepository.sourceControlAuthProperties };
        for (const k of ["token", "refreshToken"]) if (k in auth) auth[k] = REDACTED;
        return { ...t, sourceRepository: { ...t.sourceRepository, sourceControlAuthProperties: auth } };
      }),
    };
  }
  if (isObj(p.credentials) && isObj(p.credentials.customRegistries)) {
    const regs: Json = {};
    for (const [server, c] of Object.entries(p.credentials.customRegistries)) {
      if (!isObj(c)) {
        regs[server] = c;
        continue;
      }
      const cut: Json = { ...c };
      for (const k of ["userName", "password"]) if (k in cut) cut[k] = cutSecretObject(cut[k]);
      regs[server] = cut;
    }
    props.credentials = { ...p.credentials, customRegistries: regs };
  }
  return { ...task, properties: props };
}

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
      // Tasks per registry; refusals counted into one reason per subscription, as child reads are.
      const reader = new ArmReader(session.credential, session.armClientOptions());
      const tasks: CollectedItem[] = [];
      let taskFailure: { first: string; count: number } | undefined;
      for (const reg of registries) {
        try {
          for await (const page of reader.list(`${reg.id}/tasks`, TASKS_API, abortSignal)) {
            for (const [i, item] of page.items.entries()) {
              const r = toArmResource(cutTaskSecrets(item), {
                shape: "arm-resource",
                location: stripQuery(page.url),
                index: i + 1,
              });
              if (!r) {
                s.scope.unreadableRecord({ url: stripQuery(page.url), line: i + 1 }, "is not an ARM resource");
                continue;
              }
              s.scope.record();
              tasks.push(r);
            }
          }
        } catch (e) {
          if (abortSignal?.aborted) throw e;
          if (taskFailure) taskFailure.count++;
          else taskFailure = { first: explain(e, `registry ${reg.name}`, NEEDS_TASKS), count: 1 };
        }
      }
      if (taskFailure)
        s.scope.missed(
          taskFailure.count === 1
            ? taskFailure.first
            : `${taskFailure.first} (and ${taskFailure.count - 1} more reads of ACR tasks like it)`,
        );
      if (tasks.length > 0) yield tasks;
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
