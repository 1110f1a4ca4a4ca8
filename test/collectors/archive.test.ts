/**
 * The archive collector against Azurite (started here, in memory, on a free loopback port), with
 * the demo tenant's dev-subscription export blobs uploaded under the diagnostic-settings layout.
 * A counting proxy in front of Azurite records every request (and can fail chosen ones).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join, relative } from "node:path";
import * as tls from "node:tls";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prefilterFor } from "../../src/azure/prefilter.js";
import { ArchiveCollector, type ArchiveOptions } from "../../src/collectors/archive/index.js";
import { hourBlob, listingPrefixes, windowHours } from "../../src/collectors/archive/layout.js";
import { parseArchiveUrl } from "../../src/collectors/archive/url.js";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { ActivityObservation } from "../../src/model/records.js";
import { BUILTIN_RULES_DIR } from "../../src/paths.js";
import { type LoadedRules, loadRules } from "../../src/rules/loader.js";
import { runScan } from "../../src/scan/run.js";
import { UsageError } from "../../src/util/errors.js";
import { runCli, startAzurite, tempDir } from "../helpers.js";

const ACCOUNT = "devstoreaccount1";
/** Azurite's well-known development account key (docs: "Use the Azurite emulator", connection strings). */
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV = "091c6054-988d-4631-9070-418c6f76a5fa";
const DEV_FOLDER = DEV.toUpperCase();
const DEMO = join(import.meta.dirname, "../../demo/tenant");
const DEV_DIR = join(DEMO, "activity", DEV);
/** The demo snapshot's window (demo/tenant/snapshot.json). */
const WINDOW = { since: new Date("2026-10-22T00:00:00Z"), until: new Date("2026-11-21T00:00:00Z") };
const NOW = () => new Date("2026-11-23T00:00:00Z");
/** No retries: a failure injected by the proxy is final. */
const ONE_TRY = { retryOptions: { maxTries: 1 } };

const tmp = tempDir();
let azurite: { port: number; stop: () => void } | undefined;
let azuritePort = 0;
let proxy: Server;
let proxyPort = 0;
/** Requests seen by the proxy: method and path with query. */
const seen: { method: string; url: string }[] = [];
/** Paths (without query) the proxy answers with this status instead of forwarding. */
const failures = new Map<string, number>();
let loaded: LoadedRules;

function sas(container: string, permissions = "rl"): string {
  return generateBlobSASQueryParameters(
    {
      containerName: container,
      permissions: ContainerSASPermissions.parse(permissions),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(ACCOUNT, KEY),
  ).toString();
}

/** The container's URL through the proxy. */
function urlOf(container: string, token?: string): string {
  return `http://127.0.0.1:${proxyPort}/${ACCOUNT}/${container}${token ? `?${token}` : ""}`;
}

/** Every PT1H.json under the dev subscription's folder, by its path below it (`y=…/PT1H.json`). */
function devBlobs(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === "PT1H.json") out.push(relative(DEV_DIR, p));
    }
  };
  walk(DEV_DIR);
  return out.sort();
}

const service = () =>
  BlobServiceClient.fromConnectionString(
    `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:${azuritePort}/${ACCOUNT};`,
  );

async function upload(container: string, blobs: Record<string, string | Buffer>): Promise<void> {
  const c = service().getContainerClient(container);
  await c.createIfNotExists();
  for (const [name, body] of Object.entries(blobs)) await c.getBlockBlobClient(name).upload(body, body.length);
}

async function scan(url: string, options: Partial<ArchiveOptions> = {}) {
  const collector = new ArchiveCollector(url, { ...WINDOW, now: NOW, storageOptions: ONE_TRY, ...options });
  const outcome = await runScan({ collectors: [collector], loaded, now: NOW, newId: () => "scan" });
  return { collector, result: outcome.result };
}

beforeAll(async () => {
  azurite = await startAzurite();
  azuritePort = azurite.port;
  proxy = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "" });
    const path = decodeURIComponent((req.url ?? "").split("?")[0] as string);
    const status = failures.get(path);
    if (status) {
      req.resume();
      res.writeHead(status, { "content-type": "application/xml", "x-ms-error-code": "InternalError" });
      res.end(
        `<?xml version="1.0" encoding="utf-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>`,
      );
      return;
    }
    const up = request(
      { host: "127.0.0.1", port: azuritePort, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  proxyPort = await new Promise<number>((resolve) =>
    proxy.listen(0, "127.0.0.1", () => resolve((proxy.address() as { port: number }).port)),
  );
  const blobs: Record<string, Buffer> = {};
  for (const rel of devBlobs())
    blobs[`resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/${rel}`] = readFileSync(join(DEV_DIR, rel));
  await upload("insights-activity-logs", blobs);
  loaded = await loadRules([BUILTIN_RULES_DIR]);
}, 60_000);

afterAll(async () => {
  azurite?.stop();
  await new Promise((r) => proxy?.close(r));
  tmp.cleanup();
});

/** Findings as JSON with the source's place (directory or container folder) made one token. */
function comparable(findings: unknown, prefixes: string[]): string {
  let s = JSON.stringify(findings);
  for (const p of prefixes) s = s.split(p).join("<SRC>/");
  return s;
}

describe("reading the archive", () => {
  it("resumes from the folder's watermark minus the overlap (incremental scans)", async () => {
    const url = urlOf("insights-activity-logs", sas("insights-activity-logs"));
    const full = await scan(url);
    const mark = "2026-11-15T00:00:00.000Z";
    const resumed = await scan(url, {
      resume: (source, scope) =>
        source === "archive" && scope.endsWith(`resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}`)
          ? { since: new Date(Date.parse(mark) - 3_600_000), watermark: mark }
          : undefined,
    });
    const entry = (r: typeof full) => r.result.coverage.find((c) => c.source === "archive");
    expect(entry(full)?.resumedFrom).toBeUndefined();
    expect(entry(resumed)?.resumedFrom).toBe(mark);
    expect(entry(resumed)?.from).toBe("2026-11-14T23:00:00.000Z");
    expect(entry(resumed)?.status).toBe("complete");
    expect(entry(resumed)?.records).toBeGreaterThan(0);
    expect(entry(resumed)?.records).toBeLessThan(entry(full)?.records as number);
  });

  it("gives the same findings and records as the files collector over the same export files", async () => {
    // The same blobs as files, with the same declared window (first-seen learning starts there),
    // and the demo's configuration (resources, roles, sites, images) read as files in both scans.
    tmp.write(
      "snap/snapshot.json",
      JSON.stringify({ window: { from: "2026-10-22T00:00:00Z", to: "2026-11-21T00:00:00Z" } }),
    );
    for (const rel of devBlobs()) tmp.write(join("snap/activity", DEV, rel), readFileSync(join(DEV_DIR, rel)));
    const config = ["resources", "roles", "functionApps", "images"].map((d) => join(DEMO, d));
    const files = await runScan({
      collectors: [new FilesCollector([join(tmp.dir, "snap"), ...config])],
      loaded,
      now: NOW,
      newId: () => "scan",
    });
    const token = sas("insights-activity-logs");
    const archive = new ArchiveCollector(urlOf("insights-activity-logs", token), {
      ...WINDOW,
      now: NOW,
      storageOptions: ONE_TRY,
    });
    const { result } = await runScan({
      collectors: [new FilesCollector(config), archive],
      loaded,
      now: NOW,
      newId: () => "scan",
    });
    expect(files.result.findings.length).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${proxyPort}/${ACCOUNT}/insights-activity-logs`;
    expect(comparable(result.findings, [`${base}/resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/`])).toBe(
      comparable(files.result.findings, [`${join(tmp.dir, "snap/activity", DEV)}/`, `activity/${DEV}/`]),
    );
    const cov = result.coverage.find((c) => c.source === "archive");
    const filesCov = files.result.coverage.find((c) => c.scope === join(tmp.dir, "snap"));
    expect(result.coverage.filter((c) => c.source === "archive")).toHaveLength(1);
    expect(cov).toMatchObject({
      source: "archive",
      scope: `${base}/resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}`,
      status: "complete",
      records: filesCov?.records,
      from: "2026-10-22T00:00:00.000Z",
      to: "2026-11-21T00:00:00.000Z",
    });
    expect(filesCov?.records).toBeGreaterThan(500);
    expect(cov?.reason).toBe(
      `${devBlobs().length} hourly blob(s) read for ${30 * 24 + 2} hour(s); an hour without a blob had no events`,
    );
    expect(result.complete).toBe(true);
    expect(JSON.stringify(result)).not.toContain(new URLSearchParams(token).get("sig") as string);
  });

  it("scan --archive <url?SAS> from the CLI needs no sign-in and finds what --input finds in the same blobs", async () => {
    const config = ["resources", "roles", "functionApps", "images"].map((d) => join(DEMO, d));
    const window = ["--since", "2026-10-22T00:00:00Z", "--until", "2026-11-21T00:00:00Z"];
    const keys = (file: string) =>
      (JSON.parse(readFileSync(file, "utf8")) as { findings: { ruleId: string; resourceId?: string }[] }).findings
        .map((f) => `${f.ruleId} ${f.resourceId ?? ""}`)
        .sort();
    const url = urlOf("insights-activity-logs", sas("insights-activity-logs"));
    const out = join(tmp.dir, "cli-archive.json");
    // No AZURE_* variables: a SAS URL is read as it is, nothing signs in.
    const r = await runCli([
      "scan",
      "--no-state",
      "--archive",
      url,
      "--input",
      ...config,
      ...window,
      "--format",
      "json",
      "-o",
      out,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    tmp.write(
      "cli/snapshot.json",
      JSON.stringify({ window: { from: "2026-10-22T00:00:00Z", to: "2026-11-21T00:00:00Z" } }),
    );
    for (const rel of devBlobs()) tmp.write(join("cli/activity", DEV, rel), readFileSync(join(DEV_DIR, rel)));
    const ref = join(tmp.dir, "cli-files.json");
    const f = await runCli([
      "scan",
      "--no-state",
      "--input",
      join(tmp.dir, "cli"),
      ...config,
      "--format",
      "json",
      "-o",
      ref,
    ]);
    expect(f.code).toBe(0);
    expect(keys(out).length).toBeGreaterThan(0);
    expect(keys(out)).toEqual(keys(ref));
    expect(readFileSync(out, "utf8")).not.toContain(new URLSearchParams(url.split("?")[1]).get("sig") as string);
    // Both Activity Log sources at once is a usage error.
    const both = await runCli(["scan", "--no-state", "--archive", url, "--workspace", DEV, ...window]);
    expect(both.code).toBe(3);
    expect(both.stderr).toContain("use either --workspace or --archive");
  }, 120_000);

  it("lists and downloads only the hours of the window, and drops records outside it", async () => {
    const since = new Date("2026-10-23T10:30:00Z");
    const until = new Date("2026-10-24T01:15:00Z");
    const token = sas("insights-activity-logs");
    seen.length = 0;
    const { result } = await scan(urlOf("insights-activity-logs", token), { since, until });
    const lists = seen.filter((r) => r.url.includes("comp=list")).map((r) => new URL(r.url, "http://x").searchParams);
    // One listing finds the subscriptions; then one per hour (no whole day is inside the window).
    expect(lists[0]?.get("prefix")).toBe("resourceId=/SUBSCRIPTIONS/");
    const hours = windowHours(since, until, 1);
    expect(hours).toHaveLength(17); // 10:00 on the 23rd to 02:00 on the 24th
    expect(lists.slice(1).map((p) => p.get("prefix"))).toEqual(listingPrefixes(DEV_FOLDER, hours));
    expect(lists.slice(1).every((p) => /\/h=\d\d\/$/.test(p.get("prefix") as string))).toBe(true);
    // Downloads: exactly the dev blobs whose hour is in the window, nothing else.
    const inWindow = new Set(hours.map((h) => hourBlob(DEV_FOLDER, h)));
    const expected = devBlobs()
      .map((rel) => `resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/${rel}`)
      .filter((n) => inWindow.has(n));
    expect(expected.length).toBeGreaterThan(2);
    const gets = seen
      .filter((r) => r.method === "GET" && !r.url.includes("comp=list"))
      .map((r) =>
        decodeURIComponent((r.url.split("?")[0] as string).slice(`/${ACCOUNT}/insights-activity-logs/`.length)),
      );
    expect(gets).toEqual(expected);
    // Records: those of the downloaded lines whose time is inside [since, until].
    let kept = 0;
    let dropped = 0;
    for (const name of expected) {
      const body = readFileSync(join(DEV_DIR, name.slice(`resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/`.length)), "utf8");
      for (const line of body.split("\n").filter((l) => l.trim() !== "")) {
        const t = Date.parse((JSON.parse(line) as { time: string }).time);
        if (t >= since.getTime() && t <= until.getTime()) kept++;
        else dropped++;
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(result.coverage[0]).toMatchObject({ status: "complete", records: kept });
    expect(result.coverage[0]?.reason).toContain(`${dropped} record(s) outside 2026-10-23T10:30:00.000Z`);
  });

  it("locates a corrupt line by blob and line, and a blob that cannot be downloaded", async () => {
    const sub = "00000000-0000-0000-0000-0000000000aa";
    const first = `resourceId=/SUBSCRIPTIONS/${sub.toUpperCase()}/y=2026/m=10/d=25/h=07/m=00/PT1H.json`;
    const second = `resourceId=/SUBSCRIPTIONS/${sub.toUpperCase()}/y=2026/m=10/d=25/h=09/m=00/PT1H.json`;
    const line = readFileSync(join(DEV_DIR, devBlobs()[0] as string), "utf8").split("\n")[0] as string;
    const event = (time: string) => line.replace(/"time":"[^"]+"/, `"time":"${time}"`);
    await upload("corrupt", {
      [first]: `${event("2026-10-25T07:01:00Z")}\n{"time": "2026-10-25T07:02:00Z", "cut`,
      [second]: `${event("2026-10-25T09:01:00Z")}\n`,
      // Not the layout: counted in a note, not read.
      [`resourceId=/SUBSCRIPTIONS/${sub.toUpperCase()}/y=2026/m=10/d=25/h=09/m=00/other.txt`]: "x",
    });
    const token = sas("corrupt");
    failures.set(`/${ACCOUNT}/corrupt/${second}`, 500);
    try {
      const { result } = await scan(urlOf("corrupt", token), { subscriptions: [sub] });
      expect(result.coverage).toHaveLength(1);
      const cov = result.coverage[0];
      expect(cov).toMatchObject({ status: "partial", records: 1, unreadable: 1 });
      expect(cov?.reason).toContain("1 unreadable record(s) skipped");
      expect(cov?.reason).toContain("1 file(s) could not be read");
      expect(cov?.reason).toContain(`${first}:2 not valid JSON`);
      expect(cov?.reason).toContain(`${second} could not be read (download failed (500 InternalError)`);
      expect(cov?.reason).toContain("1 other blob(s) under the hour folders ignored");
      expect(result.complete).toBe(false);
      expect(JSON.stringify(result)).not.toContain(new URLSearchParams(token).get("sig") as string);
    } finally {
      failures.clear();
    }
  });

  it("a window with no blob is empty (not complete: the gate fails closed); a subscription with no folder, a missing container and a refused SAS fail their scope", async () => {
    const { result: empty } = await scan(urlOf("insights-activity-logs", sas("insights-activity-logs")), {
      since: new Date("2026-10-24T03:00:00Z"),
      until: new Date("2026-10-24T05:00:00Z"),
    });
    expect(empty.coverage[0]).toMatchObject({ status: "empty", records: 0 });
    expect(empty.coverage[0]?.reason).toMatch(/^no records read\. 0 hourly blob/);
    expect(empty.complete).toBe(false);

    const other = "11111111-2222-3333-4444-555555555555";
    const { result: partly } = await scan(urlOf("insights-activity-logs", sas("insights-activity-logs")), {
      subscriptions: [DEV, other],
    });
    expect(partly.coverage.map((c) => c.status)).toEqual(["complete", "failed"]);
    expect(partly.coverage[1]?.reason).toBe(
      `the container has no resourceId=/SUBSCRIPTIONS/${other.toUpperCase()}/ folder: no diagnostic setting exports this subscription's Activity Log here`,
    );

    const missingToken = sas("nothere");
    const { result: missing } = await scan(urlOf("nothere", missingToken));
    expect(missing.coverage).toEqual([
      {
        source: "archive",
        scope: `http://127.0.0.1:${proxyPort}/${ACCOUNT}/nothere`,
        status: "failed",
        records: 0,
        from: "2026-10-22T00:00:00.000Z",
        to: "2026-11-21T00:00:00.000Z",
        reason: `listing the archive's subscriptions: the container does not exist: http://127.0.0.1:${proxyPort}/${ACCOUNT}/nothere`,
      },
    ]);
    expect(missing.complete).toBe(false);

    // A SAS signed for another container: Azurite refuses it with 403.
    const wrong = sas("some-other-container");
    const { result: refused } = await scan(urlOf("insights-activity-logs", wrong), { subscriptions: [DEV] });
    expect(refused.coverage[0]?.status).toBe("failed");
    expect(refused.coverage[0]?.reason).toMatch(
      /^listing the archive's subscriptions: the SAS token was refused \(403 AuthorizationFailure\); it must be valid now, allow read and list \(sp=rl\)/,
    );
    for (const r of [missing, refused]) {
      const json = JSON.stringify(r);
      for (const t of [missingToken, wrong]) expect(json).not.toContain(new URLSearchParams(t).get("sig") as string);
    }
  });

  it("reads back a line the pre-filter cleared, by one ranged download", async () => {
    const { filter } = prefilterFor(loaded.rules);
    expect(filter).toBeDefined();
    const collector = new ArchiveCollector(urlOf("insights-activity-logs", sas("insights-activity-logs")), {
      ...WINDOW,
      now: NOW,
      storageOptions: ONE_TRY,
    });
    const plan = await collector.plan();
    const observations: ActivityObservation[] = [];
    for await (const batch of collector.collect(plan, {
      tally: new CoverageTally(),
      diagnostics: new Diagnostics(),
      filter,
    }))
      for (const x of batch) if (x.kind === "observation") observations.push(x);
    expect(observations.length).toBeGreaterThan(10);
    const picked = [observations[0], observations[observations.length - 1]] as ActivityObservation[];
    seen.length = 0;
    const back = await collector.readBack([
      ...picked.map((o) => o.at),
      { file: "/somewhere/else.json", line: 1, offset: 0, length: 10, gzip: false },
    ]);
    expect(back.map((r) => (r.kind === "activity" ? [r.time, r.operation, r.origin.index] : r.kind))).toEqual(
      picked.map((o) => [o.time, o.operation, o.at.line]),
    );
    expect(seen.map((r) => r.method)).toEqual(["GET", "GET"]);
  });
});

describe("access through a sign-in", () => {
  it("a 403 names the Storage Blob Data Reader role on the container", async () => {
    const { cert, private: key } = await generate([{ name: "commonName", value: "127.0.0.1" }], {
      extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
    });
    tls.setDefaultCACertificates([...tls.getCACertificates("default"), cert]);
    const auth: string[] = [];
    const server = createHttpsServer({ cert, key }, (req, res) => {
      auth.push(req.headers.authorization ?? "");
      req.resume();
      res.writeHead(403, { "content-type": "application/xml", "x-ms-error-code": "AuthorizationPermissionMismatch" });
      res.end(
        `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.</Message></Error>`,
      );
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
    );
    const scopes: string[] = [];
    const credential: TokenCredential = {
      async getToken(s): Promise<AccessToken> {
        scopes.push(...(Array.isArray(s) ? s : [s]));
        return { token: "test-token", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    try {
      const base = `https://127.0.0.1:${port}/${ACCOUNT}/insights-activity-logs`;
      const { result } = await scan(base, { credential, subscriptions: [DEV] });
      expect(result.coverage[0]).toMatchObject({
        status: "failed",
        scope: `${base}/resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}`,
      });
      expect(result.coverage[0]?.reason).toBe(
        `listing the archive's subscriptions: access denied (403 AuthorizationPermissionMismatch); the identity needs the Storage Blob Data Reader role on the container ${base} (or its storage account), and the account's network rules must admit this machine`,
      );
      expect(auth[0]).toBe("Bearer test-token");
      expect(scopes).toContain("https://storage.azure.com/.default");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("the URL", () => {
  const now = new Date("2026-11-23T00:00:00Z");
  const bad = (url: string, message: string) =>
    expect(() => parseArchiveUrl(url, now)).toThrow(new UsageError(message));

  it("must be https (http only on loopback), name a container and carry a usable SAS or none", () => {
    bad(
      "not a url",
      "--archive must be a Storage container URL such as https://<account>.blob.core.windows.net/insights-activity-logs, got 'not a url'",
    );
    bad(
      "http://acct.blob.core.windows.net/insights-activity-logs?sv=1&sig=SECRET",
      "--archive must be an https:// URL (plain http is allowed only for a loopback emulator), got 'http://acct.blob.core.windows.net/insights-activity-logs?…'",
    );
    bad(
      "ftp://acct.blob.core.windows.net/insights-activity-logs",
      "--archive must be an https:// URL, got 'ftp://acct.blob.core.windows.net/insights-activity-logs'",
    );
    bad(
      "https://acct.blob.core.windows.net",
      "--archive must name the container, e.g. https://acct.blob.core.windows.net/insights-activity-logs (the URL names only the account)",
    );
    bad(
      "https://acct.blob.core.windows.net/insights-activity-logs/resourceId=/SUBSCRIPTIONS/X",
      "--archive must be the container's URL, not a path inside it: use https://acct.blob.core.windows.net/insights-activity-logs (and --subscription to narrow)",
    );
    bad(
      "https://acct.blob.core.windows.net/Insights_Logs",
      "--archive names 'Insights_Logs', which is not a valid container name (3-63 lower-case letters, digits and single hyphens)",
    );
    bad(
      "https://acct.blob.core.windows.net/insights-activity-logs?comp=list",
      "--archive has a query string that is not a SAS token (no sig=): remove it to sign in, or paste the whole SAS URL",
    );
    bad(
      "https://acct.blob.core.windows.net/insights-activity-logs?sp=r&se=2027-01-01T00:00:00Z&sig=SECRET",
      "--archive: the SAS token allows 'r' but reading the archive needs read and list (sp=rl): make a SAS with both",
    );
    bad(
      "https://acct.blob.core.windows.net/insights-activity-logs?sp=rl&se=2026-11-01T00:00:00Z&sig=SECRET",
      "--archive: the SAS token expired at 2026-11-01T00:00:00.000Z: make a new one",
    );
    bad(
      "https://user:pw@acct.blob.core.windows.net/insights-activity-logs",
      "--archive must not carry a user name or password in the URL: use a SAS token or sign-in",
    );
  });

  it("keeps the SAS apart from the base every output uses", () => {
    const u = parseArchiveUrl(
      "https://acct.blob.core.windows.net/insights-activity-logs/?sp=rl&se=2027-01-01T00:00:00Z&sv=2022-11-02&sig=abc%2Bdef%3D",
      now,
    );
    expect(u).toEqual({
      base: "https://acct.blob.core.windows.net/insights-activity-logs",
      account: "acct",
      container: "insights-activity-logs",
      sas: "sp=rl&se=2027-01-01T00:00:00Z&sv=2022-11-02&sig=abc%2Bdef%3D",
      sasExpiry: new Date("2027-01-01T00:00:00Z"),
    });
    expect(parseArchiveUrl("http://127.0.0.1:10000/devstoreaccount1/insights-activity-logs", now)).toMatchObject({
      account: "devstoreaccount1",
      container: "insights-activity-logs",
    });
    expect(parseArchiveUrl("http://localhost:10000/devstoreaccount1/insights-activity-logs", now).base).toBe(
      "http://localhost:10000/devstoreaccount1/insights-activity-logs",
    );
  });

  it("plan() refuses a missing sign-in, a bad window and a bad subscription id before any request", async () => {
    const url = "https://acct.blob.core.windows.net/insights-activity-logs";
    const plan = (o: Partial<ArchiveOptions>) => new ArchiveCollector(url, { ...WINDOW, now: NOW, ...o }).plan();
    await expect(plan({})).rejects.toThrow(
      new UsageError(
        `--archive ${url} has no SAS token, so reading it needs a sign-in with the Storage Blob Data Reader role on the container; or append a SAS token with read and list (sp=rl)`,
      ),
    );
    const credential: TokenCredential = { getToken: async () => null };
    await expect(plan({ credential, since: WINDOW.until, until: WINDOW.since })).rejects.toThrow(
      new UsageError("--since (2026-11-21T00:00:00.000Z) must not be after --until (2026-10-22T00:00:00.000Z)"),
    );
    await expect(plan({ credential, since: new Date("nope") })).rejects.toThrow(
      new UsageError("--archive needs a valid --since time (ISO-8601)"),
    );
    await expect(plan({ credential, subscriptions: ["contoso-dev"] })).rejects.toThrow(
      new UsageError("subscription 'contoso-dev' is not a subscription id (a GUID)"),
    );
    await expect(plan({ credential, lateHours: 48 })).rejects.toBeInstanceOf(UsageError);
  });

  it("a container with no subscription folders is a usage error", async () => {
    await upload("empty-archive", { "readme.txt": "nothing here" });
    await expect(
      new ArchiveCollector(urlOf("empty-archive", sas("empty-archive")), {
        ...WINDOW,
        now: NOW,
        storageOptions: ONE_TRY,
      }).plan(),
    ).rejects.toThrow(
      new UsageError(
        `http://127.0.0.1:${proxyPort}/${ACCOUNT}/empty-archive has no resourceId=/SUBSCRIPTIONS/ folders, so it holds no Activity Log export: check that the URL names the insights-activity-logs container a diagnostic setting writes to`,
      ),
    );
  });
});

describe("the hours", () => {
  it("a whole day is one listing, the edges one per hour, and hours not begun are not listed", () => {
    const hours = windowHours(new Date("2026-10-22T22:10:00Z"), new Date("2026-10-24T00:30:00Z"), 1);
    expect(listingPrefixes(DEV_FOLDER, hours)).toEqual([
      `resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/y=2026/m=10/d=22/h=22/`,
      `resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/y=2026/m=10/d=22/h=23/`,
      `resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/y=2026/m=10/d=23/`,
      `resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/y=2026/m=10/d=24/h=00/`,
      `resourceId=/SUBSCRIPTIONS/${DEV_FOLDER}/y=2026/m=10/d=24/h=01/`,
    ]);
    expect(windowHours(new Date("2026-10-22T22:10:00Z"), new Date("2026-10-24T00:30:00Z"), 0)).toHaveLength(27);
    expect(
      windowHours(
        new Date("2026-11-22T20:00:00Z"),
        new Date("2026-11-23T05:00:00Z"),
        1,
        new Date("2026-11-22T21:59:00Z"),
      ),
    ).toHaveLength(2);
  });
});
