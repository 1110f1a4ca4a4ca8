/**
 * The exporter against the loopback fake of the Logs Ingestion API: gzipped calls under 1 MB,
 * the bearer token for the Monitor audience, 429 honoured after Retry-After, a failed call's rows
 * (and only those) reported back, and the outbox keeping them until a later pass delivers them.
 */
import * as tls from "node:tls";
import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exportFindings } from "../../../src/exporters/run.js";
import { IngestionSender, SentinelExporter } from "../../../src/exporters/sentinel/client.js";
import { flushOutbox, OUTBOX_EXPORTER, outboxItems } from "../../../src/exporters/sentinel/deliver.js";
import { findingRow, rowKey } from "../../../src/exporters/sentinel/rows.js";
import type { SentinelRow } from "../../../src/exporters/sentinel/schema.js";
import type { Finding } from "../../../src/model/finding.js";
import { openOutbox, openScanSession } from "../../../src/store/sqlite.js";
import { tempDir } from "../../helpers.js";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type FakeIngestion,
  RULE_ID,
  STREAM,
  startFakeIngestion,
  TENANT,
} from "./fake-ingestion.js";

const tmp = tempDir();
let fake: FakeIngestion;

beforeAll(async () => {
  fake = await startFakeIngestion();
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), fake.tls.caPem]);
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});
beforeEach(() => {
  fake.calls.length = 0;
  fake.respond = () => undefined;
});

function sender(): IngestionSender {
  const credential = new ClientSecretCredential(TENANT, CLIENT_ID, CLIENT_SECRET, {
    authorityHost: fake.authorityHost,
    disableInstanceDiscovery: true,
  });
  return new IngestionSender({ endpoint: fake.url, ruleId: RULE_ID, stream: STREAM }, credential, {
    retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 100 },
  });
}

/** A finding whose evidence carries `pad` characters of script (so rows can be made large). */
function finding(i: number, pad = 0): Finding {
  return {
    id: `finding-${String(i).padStart(4, "0")}`,
    ruleId: "6f1c7d0e-run-command",
    title: "Run Command on a virtual machine",
    severity: "high",
    attack: { tactics: ["execution"], techniques: ["T1651"] },
    subscriptionId: "11111111-2222-3333-4444-555555555555",
    resourceId: `/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}`,
    principal: { id: "9f8e7d6c-0000-0000-0000-000000000001", name: "ci-deployer", type: "ServicePrincipal" },
    time: "2026-11-19T10:00:00Z",
    operation: "Microsoft.Compute/virtualMachines/runCommand/action",
    evidence: {
      kind: "payload",
      records: [],
      vector: "run-command",
      payloads: [
        {
          kind: "script",
          path: "properties.source.script",
          content: `echo ${i} ${"x".repeat(pad)}`,
          truncated: false,
          vector: "run-command",
        },
      ],
    },
  };
}

const scan = { id: "scan-a", finishedAt: "2026-11-19T11:00:00Z", toolVersion: "0.1.0" };
const rowsOf = (findings: Finding[]): SentinelRow[] => findings.map((f) => findingRow(f, scan));
const keysOf = (rows: readonly object[]) => rows.map((r) => rowKey(r as unknown as SentinelRow)).sort();

describe("IngestionSender against the fake endpoint", () => {
  it("sends gzipped calls of at most 1 MB with a bearer token for the Monitor audience; every row once", async () => {
    // 60 rows of ~60 KB: about 3.6 MB, so several calls.
    const rows = rowsOf(Array.from({ length: 60 }, (_, i) => finding(i, 59_000)));
    const out = await sender().upload(rows);
    expect(out.failed).toEqual([]);
    expect(out.accepted).toHaveLength(60);
    expect(fake.calls.length).toBeGreaterThanOrEqual(4);
    for (const c of fake.calls) {
      expect(c.contentEncoding).toBe("gzip");
      expect(c.compressedBytes).toBeLessThan(c.plainBytes);
      expect(c.plainBytes).toBeLessThanOrEqual(1_000_000 + c.rows.length + 1);
      expect(c.apiVersion).toBe("2023-01-01");
      expect(c.path).toBe(`/dataCollectionRules/${RULE_ID}/streams/${STREAM}`);
      expect(c.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.sig$/);
      expect(fake.tokens.has((c.authorization ?? "").slice("Bearer ".length))).toBe(true);
    }
    expect(fake.scopes).toContain("https://monitor.azure.com/.default");
    expect(keysOf(fake.accepted())).toEqual(keysOf(rows));
  });

  it("waits out a 429's Retry-After and sends the call again", async () => {
    fake.respond = (c) => (c.n === 0 ? { status: 429, headers: { "Retry-After": "1" } } : undefined);
    const rows = rowsOf([finding(1), finding(2)]);
    const t0 = Date.now();
    const out = await sender().upload(rows);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(out.failed).toEqual([]);
    expect(fake.calls.map((c) => c.status)).toEqual([429, 204]);
    expect(keysOf(fake.accepted())).toEqual(keysOf(rows));
  });

  it("reports the rows of a failed call, and only those, with the service's reason", async () => {
    const rows = rowsOf(Array.from({ length: 40 }, (_, i) => finding(i, 59_000)));
    let failedCall: Record<string, unknown>[] = [];
    fake.respond = (c) => {
      if (c.rows.some((r) => r.FindingId === "finding-0020")) {
        failedCall = c.rows;
        return { status: 400 };
      }
      return undefined;
    };
    const out = await sender().upload(rows);
    expect(failedCall.length).toBeGreaterThan(0);
    expect(keysOf(out.failed.map((f) => f.row as unknown as Record<string, unknown>))).toEqual(keysOf(failedCall));
    expect(out.failed[0]?.reason).toMatch(/^HTTP 400: /);
    expect(out.accepted).toHaveLength(40 - failedCall.length);
    expect(keysOf(fake.accepted())).toEqual(keysOf(out.accepted as unknown as Record<string, unknown>[]));
  });

  it("implements the exporter contract (the --no-state path): rejected findings come back", async () => {
    fake.respond = (c) => (c.rows.some((r) => r.FindingId === "finding-0003") ? { status: 503 } : undefined);
    const s = sender();
    const exporter = new SentinelExporter(s, TENANT);
    const findings = Array.from({ length: 5 }, (_, i) => finding(i));
    const report = await exportFindings(exporter, findings, scan);
    // One call carries all five small rows: it failed (after the SDK's retries of a 503).
    expect(report.accepted).toBe(0);
    expect(report.rejected.map((r) => r.finding.id).sort()).toEqual(findings.map((f) => f.id).sort());
    expect(fake.calls.every((c) => c.rows.every((r) => r.AADTenantId === TENANT))).toBe(true);
  });
});

describe("the outbox", () => {
  function stateWith(rows: SentinelRow[]): string {
    const file = tmp.write(`state-${Math.random().toString(36).slice(2)}.db`, "");
    // An empty file is a fresh state for SQLite.
    const session = openScanSession(file);
    session.enqueue(OUTBOX_EXPORTER, outboxItems(rows));
    session.commit();
    return file;
  }

  it("keeps a failed call's rows and delivers them on the next pass: each row accepted exactly once", async () => {
    const rows = rowsOf(Array.from({ length: 40 }, (_, i) => finding(i, 59_000)));
    const file = stateWith(rows);
    let failures = 0;
    fake.respond = (c) => {
      if (c.n === 0) return { status: 429, headers: { "Retry-After": "1" } };
      if (failures === 0 && c.rows.some((r) => r.FindingId === "finding-0030")) {
        failures++;
        return { status: 400 };
      }
      return undefined;
    };
    const outbox = openOutbox(file);
    const report = await flushOutbox(outbox, sender(), { pauseMs: 10 });
    expect(report).toEqual({ delivered: 40, remaining: 0 });
    expect(failures).toBe(1);
    expect(keysOf(fake.accepted())).toEqual(keysOf(rows));
    expect(outbox.waiting(OUTBOX_EXPORTER)).toEqual({ rows: 0 });
    outbox.close();
  });

  it("leaves rows that keep failing in the outbox, with their attempts and last error", async () => {
    const rows = rowsOf([finding(1), finding(2), finding(3)]);
    const file = stateWith(rows);
    fake.respond = () => ({ status: 403 });
    const outbox = openOutbox(file);
    const report = await flushOutbox(outbox, sender(), { pauseMs: 10, passes: 3 });
    expect(report.delivered).toBe(0);
    expect(report.remaining).toBe(3);
    expect(report.lastError).toMatch(/^HTTP 403: /);
    const page = outbox.page(OUTBOX_EXPORTER, 0, 10, 1e9);
    expect(page.map((e) => e.attempts)).toEqual([3, 3, 3]);
    // Then the service is back: they go, and nothing is sent twice.
    fake.calls.length = 0;
    fake.respond = () => undefined;
    expect(await flushOutbox(outbox, sender(), { pauseMs: 10 })).toEqual({ delivered: 3, remaining: 0 });
    expect(keysOf(fake.accepted())).toEqual(keysOf(rows));
    outbox.close();
  });

  it("does not settle a page whose send was interrupted: its rows are sent again, identical", async () => {
    const rows = rowsOf([finding(1), finding(2)]);
    const file = stateWith(rows);
    const outbox = openOutbox(file);
    await expect(
      flushOutbox(outbox, sender(), {
        afterSend: async () => {
          throw new Error("killed between send and acknowledgement");
        },
      }),
    ).rejects.toThrow(/killed/);
    const first = fake.accepted();
    expect(outbox.waiting(OUTBOX_EXPORTER).rows).toBe(2);
    fake.calls.length = 0;
    expect(await flushOutbox(outbox, sender())).toEqual({ delivered: 2, remaining: 0 });
    expect(fake.accepted()).toEqual(first);
    outbox.close();
  });

  it("an enqueue that is not committed leaves nothing in the outbox", () => {
    const file = tmp.write("abandoned.db", "");
    const session = openScanSession(file);
    session.enqueue(OUTBOX_EXPORTER, outboxItems(rowsOf([finding(1)])));
    session.abandon();
    const outbox = openOutbox(file);
    expect(outbox.waiting(OUTBOX_EXPORTER).rows).toBe(0);
    outbox.close();
  });
});
