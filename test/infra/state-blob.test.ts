/**
 * The Container Apps Job's state wrapper (infra/container-apps-job/state-blob.ts) against Azurite
 * (in memory, on a free loopback port): real ETags and conditional writes, and the real scanner
 * on the demo tenant swapping its state in and out across two executions.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  azureStateBlob,
  parseArgs,
  runWithStateBlob,
  type StateBlob,
} from "../../infra/container-apps-job/state-blob.ts";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { startAzurite, tempDir } from "../helpers.js";

const ACCOUNT = "devstoreaccount1";
/** Azurite's well-known development account key (docs: "Use the Azurite emulator", connection strings). */
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const CLI = join(PACKAGE_ROOT, "bin/azure-exec-audit.js");

let azurite: { port: number; stop: () => void } | undefined;
let port = 0;
let n = 0;
const dirs: Array<ReturnType<typeof tempDir>> = [];

const key = () => new StorageSharedKeyCredential(ACCOUNT, KEY);

/** A fresh blob URL in a fresh container (no blob yet). */
async function freshBlob(): Promise<string> {
  const container = `state${++n}`;
  const service = new BlobServiceClient(`http://127.0.0.1:${port}/${ACCOUNT}`, key());
  await service.getContainerClient(container).create();
  return `http://127.0.0.1:${port}/${ACCOUNT}/${container}/state.db`;
}

function dir(): ReturnType<typeof tempDir> {
  const d = tempDir();
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  azurite = await startAzurite();
  port = azurite.port;
});

afterAll(() => {
  azurite?.stop();
});

afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe("azureStateBlob", () => {
  it("reads nothing before the first save, then saves only over the ETag it read", async () => {
    const url = await freshBlob();
    const blob = azureStateBlob(url, key());
    const d = dir();
    expect(await blob.download(join(d.dir, "none"))).toBeNull();
    const a = d.write("a", "first");
    expect(await blob.upload(a, null)).toBe(true);
    // A second "first save" finds a blob there now.
    expect(await blob.upload(a, null)).toBe(false);
    const etag = await blob.download(join(d.dir, "got"));
    expect(etag).toBeTruthy();
    expect(readFileSync(join(d.dir, "got"), "utf8")).toBe("first");
    expect(await blob.upload(d.write("b", "second"), etag)).toBe(true);
    // The ETag read before the last save is stale.
    expect(await blob.upload(d.write("c", "third"), etag)).toBe(false);
    await blob.download(join(d.dir, "again"));
    expect(readFileSync(join(d.dir, "again"), "utf8")).toBe("second");
  });

  it("fails on anything but a missing blob: a missing container or a refused credential", async () => {
    const blob = azureStateBlob(`http://127.0.0.1:${port}/${ACCOUNT}/nosuchcontainer/state.db`, key());
    // 404 too, but ContainerNotFound: a wrong URL must not pass for "no state yet".
    await expect(blob.download(join(dir().dir, "x"))).rejects.toThrow(/ContainerNotFound|container does not exist/i);
    const denied = azureStateBlob(
      await freshBlob(),
      new StorageSharedKeyCredential(ACCOUNT, Buffer.from("wrong").toString("base64")),
    );
    await expect(denied.download(join(dir().dir, "y"))).rejects.toThrow();
  });
});

describe("runWithStateBlob", () => {
  it("keeps the findings lifecycle across two executions that share only the blob", async () => {
    const url = await freshBlob();
    const reports: Array<{ findings: Array<{ status: string }> }> = [];
    for (let run = 0; run < 2; run++) {
      // Each execution starts on an empty disk, as a new replica does.
      const d = dir();
      const state = join(d.dir, "state", "state.db");
      const out = join(d.dir, "report.json");
      const logs: string[] = [];
      const code = await runWithStateBlob({
        blob: azureStateBlob(url, key()),
        state,
        command: [process.execPath, CLI, "scan", "--demo", "--state", state, "--format", "json", "--output", out],
        log: (l) => logs.push(l),
      });
      expect(logs).toEqual([]);
      expect(code).toBe(0);
      expect(existsSync(`${state}-wal`)).toBe(false);
      reports.push(JSON.parse(readFileSync(out, "utf8")));
    }
    const [first, second] = reports as [(typeof reports)[0], (typeof reports)[0]];
    expect(first.findings.length).toBeGreaterThan(0);
    expect(first.findings.every((f) => f.status === "new")).toBe(true);
    expect(second.findings.length).toBe(first.findings.length);
    expect(second.findings.every((f) => f.status === "open")).toBe(true);
  });

  it("drops its state, and says so, when another execution saved while it scanned", async () => {
    const url = await freshBlob();
    const real = azureStateBlob(url, key());
    const other = dir().write("other", "the other execution's state");
    const racing: StateBlob = {
      async download(file) {
        const etag = await real.download(file);
        expect(await real.upload(other, etag)).toBe(true);
        return etag;
      },
      upload: (file, etag) => real.upload(file, etag),
    };
    const d = dir();
    const state = join(d.dir, "state.db");
    const logs: string[] = [];
    const code = await runWithStateBlob({
      blob: racing,
      state,
      command: [
        process.execPath,
        CLI,
        "scan",
        "--demo",
        "--state",
        state,
        "--format",
        "json",
        "--output",
        join(d.dir, "r"),
      ],
      log: (l) => logs.push(l),
    });
    expect(code).toBe(3);
    expect(logs.join("\n")).toContain("another execution saved first");
    await real.download(join(d.dir, "kept"));
    expect(readFileSync(join(d.dir, "kept"), "utf8")).toBe("the other execution's state");
  });

  it("uploads nothing after a scan that failed, and scans nothing when the blob cannot be read", async () => {
    const uploads: string[] = [];
    const blob: StateBlob = { download: async () => null, upload: async (f) => uploads.push(f) > 0 };
    const d = dir();
    const state = join(d.dir, "state.db");
    const logs: string[] = [];
    const code = await runWithStateBlob({
      blob,
      state,
      command: [process.execPath, CLI, "scan", "--demo", "--state", state, "--no-such-flag"],
      log: (l) => logs.push(l),
    });
    expect(code).toBe(3);
    expect(uploads).toEqual([]);
    expect(logs.join("\n")).toContain("not uploaded");

    const marker = join(d.dir, "ran");
    const unreadable: StateBlob = {
      download: async () => {
        throw new Error("403 AuthorizationPermissionMismatch");
      },
      upload: async () => true,
    };
    const code2 = await runWithStateBlob({
      blob: unreadable,
      state,
      command: [process.execPath, "-e", `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "")`],
      log: (l) => logs.push(l),
    });
    expect(code2).toBe(3);
    expect(existsSync(marker)).toBe(false);
    expect(logs.at(-1)).toContain("Storage Blob Data Contributor");
  });

  it("folds a WAL the scan left behind into the file it uploads", async () => {
    const d = dir();
    const state = join(d.dir, "state.db");
    // A process that commits in WAL mode and exits without closing leaves its commit in -wal only.
    const script = `const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(${JSON.stringify(state)});
db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x); INSERT INTO t VALUES (42)");
process.exit(0);`;
    let uploaded: Buffer | undefined;
    const code = await runWithStateBlob({
      blob: {
        download: async () => null,
        upload: async (f) => {
          uploaded = readFileSync(f);
          return true;
        },
      },
      state,
      command: [process.execPath, "-e", script],
      log: () => {},
    });
    expect(code).toBe(0);
    const copy = d.write("copy.db", uploaded as Buffer);
    const db = new DatabaseSync(copy, { readOnly: true });
    try {
      expect(db.prepare("SELECT x FROM t").all()).toEqual([{ x: 42 }]);
    } finally {
      db.close();
    }
  });
});

describe("parseArgs", () => {
  const url = "https://account.blob.core.windows.net/state/state.db";
  it("takes the blob, the state file and the command after --", () => {
    expect(parseArgs(["--blob-url", url, "--state", "/tmp/s.db", "--", "aea", "scan", "--state", "/tmp/s.db"])).toEqual(
      { blobUrl: url, state: "/tmp/s.db", command: ["aea", "scan", "--state", "/tmp/s.db"] },
    );
  });
  it("refuses a command that would scan another state file, and a plain-http blob", () => {
    expect(() => parseArgs(["--blob-url", url, "--state", "/tmp/s.db", "--", "aea", "scan"])).toThrow(
      "must pass --state /tmp/s.db",
    );
    expect(() =>
      parseArgs(["--blob-url", url, "--state", "/tmp/s.db", "--", "aea", "scan", "--state", "/tmp/other.db"]),
    ).toThrow("must pass --state");
    expect(() =>
      parseArgs(["--blob-url", "http://a/b/c", "--state", "/s", "--", "aea", "scan", "--state", "/s"]),
    ).toThrow("https://");
    expect(() => parseArgs(["--blob-url", url, "--state", "/s"])).toThrow("usage");
  });
});
