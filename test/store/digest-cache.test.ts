/**
 * The digest cache across scans: a second live scan with the same state downloads no image
 * config or layer blob it read before (a digest names its bytes for ever), and finds the same.
 * Against the loopback emulator serving the demo tenant, through the CLI as a child process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { openScanSession, pruneStore, SqliteDigestCache } from "../../src/store/sqlite.js";
import { runCli, tempDir } from "../helpers.js";

const tmp = tempDir();
let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({});
});
afterAll(async () => {
  await emu.close();
  tmp.cleanup();
});

interface Report {
  scan: { complete: boolean };
  findings: { id: string; status?: string }[];
}

async function live(state: string, n: number): Promise<Report> {
  const out = join(tmp.dir, `live-${n}.json`);
  const r = await runCli(
    [
      ...["scan", "--all-subscriptions", "--arm-endpoint", emu.info.armEndpoint, "--auth", "env"],
      ...["--since", "30d", "--state", state, "--format", "json", "--output", out],
    ],
    {
      NODE_EXTRA_CA_CERTS: emu.info.caFile,
      AZURE_TENANT_ID: emu.info.tenantId,
      AZURE_CLIENT_ID: emu.info.clientId,
      AZURE_CLIENT_SECRET: emu.info.clientSecret,
      AZURE_AUTHORITY_HOST: emu.info.authorityHost,
    },
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, "utf8")) as Report;
}

/** Reads by digest (manifests, configs, layers); the SDK sends the digest's colon encoded. */
const blobReads = (from: number) =>
  emu.requests
    .slice(from)
    .filter((q) => q.method === "GET" && /^\/v2\/.+\/(blobs|manifests)\/sha256(:|%3A)/i.test(q.path)).length;

describe("digest cache in the state", () => {
  it("a second live scan reads no blob it read before and reports the same findings, open", async () => {
    const state = join(tmp.dir, "state.db");
    const start = emu.requests.length;
    const first = await live(state, 1);
    const firstBlobs = blobReads(start);
    expect(firstBlobs).toBeGreaterThan(0);
    const db = new DatabaseSync(state, { readOnly: true });
    const kinds = db.prepare("SELECT kind, count(*) AS n FROM digests GROUP BY kind ORDER BY kind").all();
    db.close();
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(["config", "manifest"]));

    const mid = emu.requests.length;
    const second = await live(state, 2);
    expect(blobReads(mid)).toBe(0);
    expect(second.findings.map((f) => f.id).sort()).toEqual(first.findings.map((f) => f.id).sort());
    expect(new Set(second.findings.map((f) => f.status))).toEqual(new Set(["open"]));
  }, 120_000);
});

describe("SqliteDigestCache", () => {
  it("keeps the full value for this scan and a redacted one on disk", () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE digests (kind TEXT, digest TEXT, value TEXT, last_used TEXT, PRIMARY KEY (kind, digest))");
    const cache = new SqliteDigestCache(db);
    const config = { config: { Env: ["DB_PASSWORD=hunter2-very-secret", "PATH=/usr/bin"] } };
    cache.put("config", "sha256:abc", config);
    expect(cache.get("config", "sha256:abc")).toEqual(config);
    const stored = String(db.prepare("SELECT value FROM digests").get()?.value);
    expect(stored).not.toContain("hunter2");
    expect(stored).toContain("PATH=/usr/bin");
    // Another scan (a new cache on the same table) gets the stored, redacted value.
    expect(JSON.stringify(new SqliteDigestCache(db).get("config", "sha256:abc"))).not.toContain("hunter2");
    db.close();
  });

  it("dates each entry by the scan that last read or wrote it, and retention drops those unused past the age", () => {
    // The real schema: a state file as a scan leaves it.
    const file = join(tmp.dir, "digests-retention.db");
    openScanSession(file).commit();
    const db = new DatabaseSync(file);
    new SqliteDigestCache(db, "2026-01-01T00:00:00.000Z").put("manifest", "sha256:old", { layers: [] } as never);
    new SqliteDigestCache(db, "2026-01-01T00:00:00.000Z").put("manifest", "sha256:used", { layers: [] } as never);
    // A later scan reads one of them: it is used again.
    expect(new SqliteDigestCache(db, "2026-05-01T00:00:00.000Z").get("manifest", "sha256:used")).toBeDefined();
    const lastUsed = db.prepare("SELECT digest, last_used FROM digests ORDER BY digest").all();
    expect(lastUsed.map((r) => [r.digest, r.last_used])).toEqual([
      ["sha256:old", "2026-01-01T00:00:00.000Z"],
      ["sha256:used", "2026-05-01T00:00:00.000Z"],
    ]);
    const counts = pruneStore(db, new Date("2026-06-01T00:00:00.000Z"));
    expect(counts.digests).toBe(1);
    expect(
      db
        .prepare("SELECT digest FROM digests")
        .all()
        .map((r) => r.digest),
    ).toEqual(["sha256:used"]);
    db.close();
  });
});
