/**
 * Runs a scan with its state file kept in an Azure Storage blob, for the Container Apps Job
 * recipe (docs/scheduled-scans.md). SQLite's WAL and its locks need a local file system, so the
 * state lives on the replica's own disk during the scan and in the blob between scans:
 *
 * 1. download the blob to the local state file and remember its ETag (no blob: first scan);
 * 2. run the scan command;
 * 3. if the scan committed (exit 0, 1 or 2), fold any WAL left beside the file into it, then
 *    upload it only if the blob still has the ETag read in step 1 (`If-Match`, or
 *    `If-None-Match: *` when there was none). Another execution that saved in between wins and
 *    this scan's state is dropped, never merged: exit 3 says so.
 *
 * A scan that failed (exit 3 or 4) or was killed changed nothing in its state, so nothing is
 * uploaded. Usage (node 24 runs the TypeScript as is):
 *
 *   node state-blob.ts --blob-url https://<account>.blob.core.windows.net/<container>/state.db \
 *     --state /tmp/azure-exec-audit/state.db -- azure-exec-audit scan --state /tmp/azure-exec-audit/state.db …
 *
 * Signs in to Storage with the managed identity (AZURE_CLIENT_ID names a user-assigned one).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import type { TokenCredential } from "@azure/core-auth";
import { BlockBlobClient, RestError, type StorageSharedKeyCredential } from "@azure/storage-blob";

/** Where the state is kept between scans. */
export interface StateBlob {
  /** Writes the blob to `file` and returns its ETag, or null when there is no blob yet. */
  download(file: string): Promise<string | null>;
  /** Uploads `file` if the blob still has `etag` (null: if there is still no blob); false when it changed. */
  upload(file: string, etag: string | null): Promise<boolean>;
}

/** The scanner's exit codes after which its state holds a committed scan (docs/cli.md, Exit codes). */
const COMMITTED = new Set([0, 1, 2]);

/** The blob at `url` (a token credential in the job; the tests sign with Azurite's shared key). */
export function azureStateBlob(url: string, credential: TokenCredential | StorageSharedKeyCredential): StateBlob {
  const blob = new BlockBlobClient(url, credential);
  return {
    async download(file) {
      try {
        const res = await blob.downloadToFile(file);
        if (!res.etag) throw new Error(`${url} was read without an ETag`);
        return res.etag;
      } catch (e) {
        // Only a missing blob means "first scan": a missing container is a mistake in the URL.
        if (e instanceof RestError && e.statusCode === 404 && e.code === "BlobNotFound") return null;
        throw e;
      }
    },
    async upload(file, etag) {
      try {
        await blob.uploadFile(file, { conditions: etag === null ? { ifNoneMatch: "*" } : { ifMatch: etag } });
        return true;
      } catch (e) {
        // 412: the ETag no longer matches; 409: a blob appeared where there was none.
        if (e instanceof RestError && (e.statusCode === 412 || e.statusCode === 409)) return false;
        throw e;
      }
    },
  };
}

/** Folds a WAL left beside `file` (a scan that exited without closing) into it, so one file is the whole state. */
export function checkpoint(file: string): void {
  if (!existsSync(`${file}-wal`)) return;
  const db = new DatabaseSync(file);
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  if (existsSync(`${file}-wal`)) rmSync(`${file}-wal`);
}

function run(command: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
}

export interface RunOptions {
  blob: StateBlob;
  /** The local state file the command uses (its --state). */
  state: string;
  command: string[];
  log?: (line: string) => void;
}

/** Downloads, runs, uploads; returns the exit code to leave with. */
export async function runWithStateBlob({ blob, state, command, log = console.error }: RunOptions): Promise<number> {
  mkdirSync(dirname(state), { recursive: true });
  for (const f of [state, `${state}-wal`, `${state}-shm`]) rmSync(f, { force: true });
  const partial = `${state}.download`;
  let etag: string | null;
  try {
    etag = await blob.download(partial);
  } catch (e) {
    log(
      `state-blob: could not read the state blob (${(e as Error).message}); the identity needs Storage Blob Data Contributor on its container. Nothing was scanned`,
    );
    return 3;
  }
  if (etag !== null) renameSync(partial, state);
  const { code, signal } = await run(command);
  if (code === null || !COMMITTED.has(code)) {
    log(`state-blob: the scan ended with ${signal ?? `exit ${code}`}; its state did not change and was not uploaded`);
    return code ?? 4;
  }
  if (!existsSync(state)) {
    log(`state-blob: the scan wrote no state file at ${state} (does its --state name it?); nothing was uploaded`);
    return 3;
  }
  checkpoint(state);
  let saved: boolean;
  try {
    saved = await blob.upload(state, etag);
  } catch (e) {
    log(`state-blob: could not write the state blob (${(e as Error).message}); this scan's state is lost`);
    return 3;
  }
  if (!saved) {
    log(
      "state-blob: the state blob changed while this scan ran (another execution saved first); this scan's state was not saved, the other's is kept",
    );
    return 3;
  }
  return code;
}

/** Parses `--blob-url <url> --state <file> -- <command…>`; the command must use the same --state. */
export function parseArgs(argv: string[]): { blobUrl: string; state: string; command: string[] } {
  const sep = argv.indexOf("--");
  if (sep < 0) throw new Error("usage: state-blob.ts --blob-url <url> --state <file> -- <scan command…>");
  const own = argv.slice(0, sep);
  const command = argv.slice(sep + 1);
  const value = (name: string): string => {
    const i = own.indexOf(name);
    const v = i >= 0 ? own[i + 1] : undefined;
    if (!v) throw new Error(`state-blob.ts needs ${name}`);
    return v;
  };
  const blobUrl = value("--blob-url");
  const state = value("--state");
  if (!blobUrl.startsWith("https://")) throw new Error("--blob-url must be an https:// blob URL");
  const i = command.indexOf("--state");
  if (command.length === 0 || i < 0 || command[i + 1] !== state)
    throw new Error(`the scan command must pass --state ${state}, the file this wrapper swaps in and out`);
  return { blobUrl, state, command };
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`state-blob: ${(e as Error).message}`);
    process.exitCode = 3;
    return;
  }
  const { ManagedIdentityCredential } = await import("@azure/identity");
  const clientId = process.env.AZURE_CLIENT_ID;
  const credential = clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  process.exitCode = await runWithStateBlob({
    blob: azureStateBlob(args.blobUrl, credential),
    state: args.state,
    command: args.command,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
