/**
 * The workspace collector: the KQL it sends (literals escaped, the window sliced half-open, the
 * operations pushed down), what it does with capped and partial answers and with a 403 — against
 * nock — and, end to end against the loopback emulator, that scanning the demo tenant's workspace
 * gives the findings scanning its Activity Log files gives.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { ClientSecretCredential } from "@azure/identity";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runQuery, toRow } from "../../emulator/logs.ts";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { Attribution } from "../../src/azure/enrich/attribution.js";
import { AZURE_FIELDS } from "../../src/azure/fields.js";
import { fromTable } from "../../src/azure/normalize/activity.js";
import { prefilterFor } from "../../src/azure/prefilter.js";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { WorkspaceCollector, type WorkspaceOptions } from "../../src/collectors/workspace/index.js";
import { eventsQuery, kqlString } from "../../src/collectors/workspace/kql.js";
import { partEntries } from "../../src/engine/baseline.js";
import { firstSeenTuples } from "../../src/engine/engine.js";
import { FirstSeenStage } from "../../src/engine/firstseen.js";
import { MemoryState } from "../../src/engine/state.js";
import { RecordView } from "../../src/matcher/view.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { Finding } from "../../src/model/finding.js";
import type { CollectedItem } from "../../src/model/records.js";
import { BUILTIN_RULES_DIR, DEMO_TENANT_DIR } from "../../src/paths.js";
import { loadRules } from "../../src/rules/loader.js";
import { runScan } from "../../src/scan/run.js";
import { UsageError } from "../../src/util/errors.js";

const WS = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const HOST = "https://api.loganalytics.io";
const token: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: "test-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** REST-shaped events, one per hour from 2026-01-01T00:00Z, as the emulator would hold them. */
function events(
  n: number,
  op: (i: number) => string = (i) =>
    i % 2 ? "Microsoft.Compute/virtualMachines/runCommand/action" : "Microsoft.Storage/storageAccounts/write",
) {
  return Array.from({ length: n }, (_, i) => {
    const t = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString().replace(".000Z", ".1234567Z");
    const sub = "00000000-0000-0000-0000-000000000001";
    return toRow(
      {
        eventTimestamp: t,
        eventDataId: `e-${i}`,
        operationName: { value: op(i), localizedValue: op(i) },
        status: { value: "Succeeded", localizedValue: "Succeeded" },
        subscriptionId: sub,
        resourceId: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i % 3}`,
        caller: "a@contoso.example",
        claims: {
          "http://schemas.microsoft.com/identity/claims/objectidentifier": `0000000${i % 2}-aaaa-4aaa-8aaa-aaaaaaaaaaaa`,
          appid: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        },
        httpRequest: { clientIpAddress: `198.51.100.${i % 7}` },
      },
      WS,
    );
  });
}

interface Sent {
  query: string;
  timespan: string;
}

/** A workspace over `rows` behind nock: the emulator's query runner, with a row cap like the service's. */
function serve(rows: ReturnType<typeof events>, opts: { cap?: number; status?: number; body?: unknown } = {}) {
  const sent: Sent[] = [];
  nock(HOST)
    .persist()
    .post(`/v1/workspaces/${WS}/query`)
    // nock 15 hands a reply function the fetch Request (a function of two parameters would be
    // taken for the callback style).
    .reply(async (req: Request) => {
      const b = (await req.json()) as Sent;
      sent.push(b);
      if (opts.status) return [opts.status, opts.body as nock.Body];
      const a = runQuery(b.query, rows);
      const cap = opts.cap ?? 500_000;
      const out: Record<string, unknown> = {
        tables: [{ name: "PrimaryResult", columns: a.columns, rows: a.rows.slice(0, cap) }],
      };
      if (a.rows.length > cap)
        out.error = {
          code: "PartialError",
          message: "There were some errors when processing your query.",
          details: [{ code: "EngineError", message: "Query result set has exceeded the internal record count limit" }],
        };
      return [200, out];
    });
  return sent;
}

async function collect(options: Partial<WorkspaceOptions>) {
  const c = new WorkspaceCollector(WS, {
    credential: token,
    since: "2026-01-01T00:00:00Z",
    until: "2026-01-03T12:00:00Z",
    ...options,
  });
  const plan = await c.plan();
  const tally = new CoverageTally();
  const items: CollectedItem[] = [];
  for await (const b of c.collect(plan, { tally, diagnostics: new Diagnostics() })) items.push(...b);
  return { items, coverage: tally.entries() };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("KQL literals", () => {
  it("escapes quotes and backslashes, refuses control characters", () => {
    expect(kqlString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(kqlString("microsoft.web/sites/write")).toBe('"microsoft.web/sites/write"');
    expect(() => kqlString("x\ny")).toThrow(/control character/);
    expect(() => kqlString("x\u0085y")).toThrow(/control character/);
  });

  it("an operation name that cannot be a literal is a usage error at plan time", async () => {
    const c = new WorkspaceCollector(WS, {
      credential: token,
      since: "2026-01-01T00:00:00Z",
      operations: ["a\u0000b"],
    });
    await expect(c.plan()).rejects.toBeInstanceOf(UsageError);
  });

  it("a workspace that is not a GUID and an empty window are usage errors", async () => {
    await expect(
      new WorkspaceCollector("my-workspace", { credential: token, since: "2026-01-01" }).plan(),
    ).rejects.toThrow(/GUID/);
    await expect(
      new WorkspaceCollector(WS, { credential: token, since: "2026-01-02", until: "2026-01-01" }).plan(),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it("a hostile operation name stays one literal inside the in~ list", () => {
    const q = eventsQuery({ from: 0, to: 1000, closed: true }, ['x") | union (Secrets', "b"], 5);
    expect(q).toContain('| where OperationNameValue in~ ("x\\") | union (Secrets", "b")');
    // The emulator's reader of the form sees exactly two names.
    const rows = events(2, () => 'x") | union (Secrets');
    const all = rows.map((r) => ({ ...r, TimeGenerated: "1970-01-01T00:00:00.5Z" }));
    expect(runQuery(q, all).rows).toHaveLength(2);
  });
});

describe("query building and slicing (nock)", () => {
  it("sends the window as half-open daily slices, the last one closed, with the operations pushed down", async () => {
    const sent = serve(events(60));
    const { items, coverage } = await collect({ operations: ["Microsoft.Compute/virtualMachines/runCommand/action"] });
    const q1 = sent.filter((s) => s.query.includes("| project "));
    expect(q1.map((s) => /between \((.*?)\)\n/.exec(s.query)?.[1])).toEqual([
      "datetime(2026-01-01T00:00:00.0000000Z) .. datetime(2026-01-01T23:59:59.9999999Z)",
      "datetime(2026-01-02T00:00:00.0000000Z) .. datetime(2026-01-02T23:59:59.9999999Z)",
      "datetime(2026-01-03T00:00:00.0000000Z) .. datetime(2026-01-03T12:00:00.0000000Z)",
    ]);
    expect(q1[0]?.query).toContain(
      '| where OperationNameValue in~ ("microsoft.compute/virtualmachines/runcommand/action")',
    );
    expect(q1[0]?.timespan).toBe("2026-01-01T00:00:00.000Z/2026-01-02T00:00:00.000Z");
    // 61 hours of events in the window (00:00 on day 1 to 12:00 on day 3): the odd ones in full.
    const full = items.filter((x) => x.kind === "activity");
    expect(full).toHaveLength(30);
    const observed = items
      .filter((x) => x.kind === "observations")
      .reduce((n, x) => n + (x.kind === "observations" ? x.observed : 0), 0);
    expect(observed).toBe(30);
    expect(coverage).toEqual([
      {
        source: "workspace",
        scope: WS,
        status: "complete",
        records: 60,
        from: "2026-01-01T00:00:00.000Z",
        to: "2026-01-03T12:00:00.000Z",
      },
    ]);
  });

  it("splits a slice whose answer reaches the row cap, and nothing is lost", async () => {
    const sent = serve(events(60));
    const { items, coverage } = await collect({ rowLimit: 7 });
    const ids = items.flatMap((x) => (x.kind === "activity" ? [x.eventDataId] : []));
    expect(new Set(ids).size).toBe(60);
    expect(ids).toHaveLength(60);
    expect(sent.length).toBeGreaterThan(3);
    expect(sent[0]?.query).toContain("| take 8");
    expect(coverage[0]?.status).toBe("complete");
  });

  it("splits on a partial answer; where splitting cannot help, keeps the rows and makes the scope partial with the reason", async () => {
    const rows = events(60);
    // Five events in one second: more than the service's cap of 3 there.
    for (let i = 0; i < 5; i++)
      rows.push({
        ...(rows[0] as (typeof rows)[0]),
        EventDataId: `burst-${i}`,
        TimeGenerated: `2026-01-02T05:00:00.${i}Z`,
      });
    serve(rows, { cap: 3 });
    const { items, coverage } = await collect({ sliceMs: 86_400_000, minSliceMs: 1000 });
    const ids = new Set(items.flatMap((x) => (x.kind === "activity" ? [x.eventDataId] : [])));
    for (const r of rows.slice(0, 60)) expect(ids.has(r.EventDataId as string)).toBe(true);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toMatch(/partial result kept \(PartialError: There were some errors/);
    expect(coverage[0]?.reason).toMatch(/2026-01-02T05:00:00/);
  });

  it("a 403 fails the scope and names the role", async () => {
    serve([], {
      status: 403,
      body: {
        error: {
          code: "InsufficientAccessError",
          message: "The provided credentials have insufficient access to perform the requested operation",
        },
      },
    });
    const { items, coverage } = await collect({});
    expect(items).toEqual([]);
    expect(coverage[0]?.status).toBe("failed");
    expect(coverage[0]?.reason).toMatch(
      /Log Analytics Reader \(73c42c96-874c-492b-b04d-ab87d138a893\) on the workspace/,
    );
    expect(coverage[0]?.reason).toMatch(/403 InsufficientAccessError/);
  });

  it("summarises the other operations: baselines keyed as the normaliser keys them, latest writes with their authors", async () => {
    const sent = serve(events(60));
    const { items } = await collect({
      operations: ["microsoft.compute/virtualmachines/runcommand/action"],
      firstSeen: [["principal.id", "callerIpPrefix"]],
    });
    const base = sent.find((s) => s.query.includes("summarize FirstSeen"));
    expect(base?.query).toContain("by PrincipalId, CallerIpPrefix");
    const shares = items.filter((x) => x.kind === "observations");
    const tuple = shares.flatMap((x) => (x.kind === "observations" ? x.baselines.baselines : []));
    expect(tuple.every(([t]) => t === "principal.id\u001fcallerIpPrefix")).toBe(true);
    // The even hours: one principal, every address in 198.51.100.0/24, so one key.
    const keys = new Set(tuple.flatMap(([, part]) => [...part.keys]));
    expect(keys.size).toBe(1);
    const writes = shares.flatMap((x) => (x.kind === "observations" ? x.writes.writes : []));
    // Three VMs written each day (three slices): one latest successful write each per slice.
    expect(writes).toHaveLength(9);
    const w = writes[0]?.[1] as { summary?: { principal: { id?: string; appId?: string } } };
    expect(w.summary?.principal).toMatchObject({
      id: "00000000-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
      appId: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
    });
  });
});

describe("summaries equal the events they summarise", () => {
  /** Principals, addresses and resources of every shape the normaliser distinguishes. */
  function varied(n: number) {
    const sub = "00000000-0000-0000-0000-000000000001";
    const guid = (k: number) => `${String(k).padStart(8, "0")}-bbbb-4bbb-8bbb-bbbbbbbbbbbb`;
    return Array.from({ length: n }, (_, i) => {
      const claims: Record<string, string> = {};
      if (i % 5 === 0) claims["http://schemas.microsoft.com/identity/claims/objectidentifier"] = guid(i % 4);
      else if (i % 5 === 1) claims.oid = guid(i % 3);
      if (i % 3 === 0) claims.appid = guid(100 + (i % 2));
      else if (i % 3 === 1) claims.azp = guid(200);
      const authorization: { [k: string]: string | Record<string, string> } = { action: "x", scope: "/" };
      if (i % 5 === 2) authorization.evidence = { principalId: guid(300 + (i % 2)), principalType: "ServicePrincipal" };
      const ips = ["203.0.113.9", "203.0.114.10", "2001:DB8:AbC:1::7", "", "not-an-ip", "10.0.0.1"];
      const resources = [
        `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Web/sites/app${i % 2}/host/default`,
        `/subscriptions/${sub}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM1/runCommands/rc`,
        `/subscriptions/${sub}/resourceGroups/rg`,
        "",
      ];
      const ops = [
        "Microsoft.Web/sites/write",
        "MICROSOFT.WEB/SITES/HOST/LISTKEYS/ACTION",
        "Microsoft.Resources/deployments/validate/action",
        "Microsoft.Compute/virtualMachines/runCommands/write",
      ];
      return toRow(
        {
          eventTimestamp: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % 200) * 900_000).toISOString(),
          eventDataId: `v-${i}`,
          operationName: { value: ops[i % 4] as string },
          status: { value: i % 7 === 0 ? "Failed" : "Succeeded" },
          subscriptionId: sub,
          resourceId: resources[i % 4] as string,
          caller: i % 5 === 3 ? guid(400) : "someone@contoso.example",
          claims,
          authorization,
          httpRequest: { clientIpAddress: ips[i % 6] as string },
        },
        WS,
      );
    });
  }

  it("first-seen baselines from the summary rows are the baselines of the full events", async () => {
    const rows = varied(240);
    serve(rows);
    const tuples = [
      ["principal.id", "callerIpPrefix"],
      ["principal.id", "topResourceId"],
      ["principal.id", "principal.appId"],
      ["principal.id", "operationName"],
    ];
    const parsed = ["microsoft.resources/deployments/validate/action"];
    const { items } = await collect({ operations: parsed, firstSeen: tuples, sliceMs: 6 * 3_600_000 });
    const got = new FirstSeenStage(tuples, new MemoryState(), 1e6);
    let observed = 0;
    for (const x of items) {
      if (x.kind !== "observations") continue;
      got.absorb(x.baselines);
      observed += x.observed;
    }
    // The same events, in full, through the engine's own baseline code.
    const want = new FirstSeenStage(tuples, new MemoryState(), 1e6);
    let n = 0;
    for (const r of rows) {
      const e = fromTable(r, { shape: "activity-table", location: "t" });
      if (!e || parsed.includes(e.operation) || Date.parse(e.time) > Date.parse("2026-01-03T12:00:00Z")) continue;
      n++;
      want.observe(new RecordView(e, "activity", AZURE_FIELDS, {}), e.time);
    }
    expect(observed).toBe(n);
    const norm = (s: FirstSeenStage) =>
      s.share().baselines.map(([t, e]) => [t, [...partEntries(e)].sort((a, b) => a[0] - b[0])] as const);
    expect(norm(got)).toEqual(norm(want));
    expect(norm(want).every(([, e]) => e.length > 1)).toBe(true);
  });

  it("the latest writes from the summary rows are the writes attribution keeps from the full events", async () => {
    const rows = varied(240);
    serve(rows);
    const parsed = ["microsoft.resources/deployments/validate/action"];
    const { items } = await collect({ operations: parsed, sliceMs: 6 * 3_600_000 });
    const got = new Attribution(new MemoryState().writers());
    for (const x of items) if (x.kind === "observations") got.absorb(x.writes);
    const want = new Attribution(new MemoryState().writers());
    for (const r of rows) {
      const e = fromTable(r, { shape: "activity-table", location: "t" });
      if (e && !parsed.includes(e.operation)) want.observe(e);
    }
    const ids = [...new Set(rows.map((r) => r._ResourceId as string))].filter(Boolean);
    expect(ids.length).toBeGreaterThan(2);
    for (const id of ids) {
      const a = got.writerOf(id);
      const b = want.writerOf(id);
      expect(a && { ...a, location: "" }).toEqual(b && { ...b, location: "" });
    }
  });
});

describe("end to end: the demo tenant's workspace on the emulator", () => {
  let emu: RunningEmulator;
  let copy: string;
  beforeAll(async () => {
    nock.enableNetConnect();
    // A cap of 30 rows per answer: the busiest days come back partial and are split.
    emu = await startEmulator({ port: 0, logsRowLimit: 30 });
    tls.setDefaultCACertificates([...tls.getCACertificates("default"), emu.caPem]);
    // The files side reads the Activity Log files with the snapshot's declared window, as the workspace side declares its own.
    copy = mkdtempSync(join(tmpdir(), "aea-ws-"));
    cpSync(join(DEMO_TENANT_DIR, "snapshot.json"), join(copy, "snapshot.json"));
    cpSync(join(DEMO_TENANT_DIR, "activity"), join(copy, "activity"), { recursive: true });
  });
  afterAll(async () => {
    await emu?.close();
    if (copy) rmSync(copy, { recursive: true, force: true });
    nock.disableNetConnect();
  });

  it("finds what scanning the Activity Log files finds", async () => {
    const loaded = await loadRules([BUILTIN_RULES_DIR]);
    const filter = prefilterFor(loaded.rules).filter;
    const operations = (filter?.worker?.options as { ops: string[] } | undefined)?.ops;
    expect(operations?.length).toBeGreaterThan(0);
    const credential = new ClientSecretCredential(emu.info.tenantId, emu.info.clientId, emu.info.clientSecret, {
      authorityHost: emu.info.authorityHost,
      disableInstanceDiscovery: true,
    });
    const shift = emu.snapshot.shift;
    const ws = new WorkspaceCollector(emu.workspaceId, {
      credential,
      endpoint: emu.logsEndpoint,
      since: shift.iso(emu.snapshot.window.from),
      until: shift.iso(emu.snapshot.window.to),
      operations,
      firstSeen: firstSeenTuples(loaded.rules),
      rowLimit: 500,
    });
    const viaWorkspace = await runScan({ collectors: [ws], loaded });
    const viaFiles = await runScan({ collectors: [new FilesCollector([copy])], loaded });

    // Compared: rule, resource and principal. What legitimately differs: times (the emulator
    // serves the snapshot shifted by whole days, and the SDK turns TimeGenerated into a Date, so
    // the workspace path keeps milliseconds where the REST files have 100 ns), hence finding ids;
    // and ActivitySubstatusValue, which the table holds in its display form
    // ("OK (HTTP Status Code: 200)") where REST's subStatus.value is "OK".
    const key = (f: Finding) =>
      `${f.ruleId} | ${f.resourceId.toLowerCase()} | ${f.principal.id ?? f.principal.name ?? ""}`;
    const files = viaFiles.result.findings.map(key).sort();
    const workspace = viaWorkspace.result.findings.map(key).sort();
    expect(files.length).toBeGreaterThan(5);
    expect(workspace).toEqual(files);
    // First-seen rules decided from summaries give the same verdicts: some fired.
    const firstSeen = loaded.rules.filter((r) => r.ext.firstseen).map((r) => r.id);
    expect(viaWorkspace.result.findings.some((f) => firstSeen.includes(f.ruleId))).toBe(true);
    // Every event was counted, in full or summarised, and the scope is complete.
    expect(viaWorkspace.result.coverage).toMatchObject([{ source: "workspace", status: "complete" }]);
    expect(viaWorkspace.result.coverage[0]?.records).toBe(viaFiles.result.coverage[0]?.records);
    expect(viaWorkspace.result.stats.records).toBe(viaFiles.result.stats.records);
    // Splitting happened: some answers were partial at the emulator's cap.
    const logs = emu.requests.filter((r) => r.front === "logs");
    expect(logs.every((r) => r.status === 200)).toBe(true);
    expect(logs.length).toBeGreaterThan(31 * 3);
  });
});
