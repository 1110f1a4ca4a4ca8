import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { type AzureSession, createSession } from "../src/azure/live/session.js";
import { FilesCollector } from "../src/collectors/files/index.js";
import { streamJsonFile } from "../src/collectors/files/json-stream.js";
import { CoverageTally } from "../src/collectors/tally.js";
import { Diagnostics } from "../src/model/diagnostics.js";
import type { CoverageEntry, Evidence, Finding } from "../src/model/finding.js";
import type { AuditRecord } from "../src/model/records.js";
import { BUILTIN_RULES_DIR, PACKAGE_ROOT } from "../src/paths.js";
import { type LoadedRules, loadRules } from "../src/rules/loader.js";
import { type Testable, testableFor } from "../src/rules/tester.js";

export const REF = join(import.meta.dirname, "fixtures/reference");

export function ref(name: string): unknown {
  return JSON.parse(readFileSync(join(REF, name), "utf8"));
}

/** The 200 response body of an azure-rest-api-specs example file. */
export function exampleBody(name: string): unknown {
  return (ref(name) as { responses: { "200": { body: unknown } } }).responses["200"].body;
}

export function tempDir(): {
  dir: string;
  write: (rel: string, content: string | Buffer) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), "aea-test-"));
  return {
    dir,
    write(rel, content) {
      const p = join(dir, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function gz(s: string): Buffer {
  return gzipSync(Buffer.from(s));
}

/** Reads inputs with the files collector: every record, and one coverage entry per input. */
export async function readAll(paths: string[]): Promise<{ records: AuditRecord[]; coverage: CoverageEntry[] }> {
  const collector = new FilesCollector(paths);
  const plan = await collector.plan();
  const tally = new CoverageTally();
  const records: AuditRecord[] = [];
  for await (const r of collector.collect(plan, { tally, diagnostics: new Diagnostics() }))
    for (const x of r) if (x.kind !== "observation" && x.kind !== "observations") records.push(x);
  return { records, coverage: tally.entries() };
}

/** A finding's evidence narrowed to one kind; throws (failing the test) when it is another. */
export function evidenceOf<K extends Evidence["kind"]>(
  f: Finding | undefined,
  kind: K,
): Extract<Evidence, { kind: K }> {
  if (f?.evidence.kind !== kind) throw new Error(`expected ${kind} evidence, got ${f?.evidence.kind ?? "no finding"}`);
  return f.evidence as Extract<Evidence, { kind: K }>;
}

/** A built-in rule (by the start of its title) ready for runCase, with what it needs. */
export async function packRule(titlePrefix: string): Promise<Testable> {
  packLoaded ??= await loadRules([BUILTIN_RULES_DIR]);
  const loaded = packLoaded;
  const r = [...loaded.rules, ...loaded.correlations].find((x) => x.title.startsWith(titlePrefix));
  if (!r) throw new Error(`no built-in rule titled ${titlePrefix}…`);
  return testableFor(r, loaded);
}
let packLoaded: LoadedRules | undefined;

/**
 * The CLI as a child process, as a user runs it (bin/, a clean environment plus `env`).
 * Asynchronous, so servers in this process (the emulator, a proxy) keep answering; killed after
 * `timeoutMs` (code null then).
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 150_000,
  /** The working directory (relative paths in `args`, the config file looked up there). */
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, "bin/azure-exec-audit.js"), ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      ...(cwd ? { cwd } : {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A live session on a test cloud (`armEndpoint`): createSession's endpoints and pipeline, a fake credential. */
export function testSession(armEndpoint: string): AzureSession {
  const base = createSession({
    auth: "cli",
    armEndpoint,
    env: { AZURE_AUTHORITY_HOST: "https://login.example.test" },
  });
  const credential: TokenCredential = {
    getToken: async (): Promise<AccessToken> => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  return { ...base, credential };
}

/** ARM's 403 body (AuthorizationFailed) for an action on a subscription. */
export function armForbidden(action: string, subscriptionId: string) {
  return {
    error: {
      code: "AuthorizationFailed",
      message: `The client 'scanner' with object id '00000000-0000-0000-0000-000000000001' does not have authorization to perform action '${action}' over scope '/subscriptions/${subscriptionId}' or the scope is invalid.`,
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** Azurite's blob service (npm `azurite`), in memory on a free loopback port, ready when this resolves. */
export async function startAzurite(): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(PACKAGE_ROOT, "node_modules/azurite/dist/src/blob/main.js"),
      "--silent",
      "--inMemoryPersistence",
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--skipApiVersionCheck",
    ],
    { stdio: "ignore" },
  );
  try {
    await waitForPort(port);
  } catch (e) {
    child.kill();
    throw e;
  }
  return { port, stop: () => child.kill() };
}

/**
 * Root reads and writes whatever the file modes say, so tests of permission errors run the bin
 * as `nobody` (setpriv drops to it) when the suite runs as root; false where that is not possible.
 */
export const CAN_RUN_AS_NOBODY = process.getuid?.() === 0 && spawnSync("setpriv", ["--version"]).status === 0;

/** The bin run as `nobody` in `cwd` (which, and whose parents, nobody must be able to enter). */
export function runCliAsNobody(args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      process.execPath,
      join(PACKAGE_ROOT, "bin/azure-exec-audit.js"),
      ...args,
    ],
    { cwd, encoding: "utf8", env: { PATH: process.env.PATH } },
  );
}

/**
 * The bin started with AZURE_EXEC_AUDIT_TEST_PAUSE=`point` (src/cli/main.ts testPause): resolves
 * with the child once it says it is paused there, for crash tests to kill it at that point.
 */
export function pausedCli(args: string[], point: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, "bin/azure-exec-audit.js"), ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, AZURE_EXEC_AUDIT_TEST_PAUSE: point },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (stderr.includes(`paused at ${point}`)) resolve(child);
    });
    child.on("error", reject);
    child.on("close", (code) => reject(new Error(`exited ${code} before pausing: ${stderr}`)));
  });
}

/** SIGKILL, resolved once the child is gone. */
export function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("close");
    child.on("close", () => resolve());
    child.kill("SIGKILL");
  });
}

/** Every item the files collector's JSON reader gives for one file, its batches flattened. */
export async function streamItems(path: string) {
  const out = [];
  for await (const batch of streamJsonFile(path)) out.push(...batch);
  return out;
}

/** A VM start event in the diagnostic-settings export shape, numbered `i`: a plain fixture for reader tests. */
export const vmStartEvent = (i: number) => ({
  time: `2026-11-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
  resourceId: "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1",
  operationName: "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION",
  category: "Administrative",
  resultType: "Success",
  correlationId: `c-${i}`,
});
