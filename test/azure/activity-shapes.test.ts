/**
 * The shape corpus: Activity Log records as Microsoft publishes them (REST spec example, Azure
 * Monitor docs export sample, a recorded REST response, a Key Vault resource log from the docs)
 * and one-change variants of them (activity-variants.ts; derived here, labelled in
 * test/fixtures/reference/activity-shapes/SOURCES.md). Each is read through the files collector
 * as a user would hand it over, and its normalised record compared field for field.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { classify } from "../../src/azure/normalize/index.js";
import { utcTime } from "../../src/azure/normalize/util.js";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { ActivityEvent, AuditRecord } from "../../src/model/records.js";
import { ref, tempDir } from "../helpers.js";
import { rename, VARIANTS } from "./activity-variants.js";

type Json = Record<string, unknown>;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const SHAPES = join(import.meta.dirname, "../fixtures/reference/activity-shapes");
const expected = JSON.parse(readFileSync(join(SHAPES, "expected.json"), "utf8")) as Record<string, Json>;
const specExample = ref("GetActivityLogsFiltered.json") as { responses: { "200": { body: { value: Json[] } } } };
const REST = specExample.responses["200"].body.value[0] as Json;
const EXPORT = (ref("activity-export-example.json") as { records: Json[] }).records[0] as Json;
const RECORDED = (ref("custodian-activity-select.json") as { value: Json[] }).value[0] as Json;

/** A normalised record without what depends on where it was read (origin) or what it was (raw). */
function view(r: AuditRecord): Json {
  const { raw: _raw, origin, ...rest } = r as ActivityEvent;
  return { ...rest, shape: origin.shape };
}

/** Reads one file as the scanner does; records and coverage. */
async function scan(name: string, content: string | Buffer) {
  const file = tmp.write(name, content);
  const c = new FilesCollector([file], { workers: 1 });
  const tally = new CoverageTally();
  const records: AuditRecord[] = [];
  for await (const batch of c.collect(await c.plan(), { tally, diagnostics: new Diagnostics() }))
    for (const x of batch) if (x.kind !== "observation" && x.kind !== "observations") records.push(x);
  return { records, coverage: tally.entries()[0] };
}

describe("Microsoft's samples, field for field", () => {
  it("REST event (azure-rest-api-specs GetActivityLogsFiltered.json), read from the spec example file as it is", async () => {
    const { records, coverage } = await scan("GetActivityLogsFiltered.json", JSON.stringify(specExample, null, 2));
    expect(records.map(view)).toEqual([expected.rest]);
    expect(coverage).toMatchObject({ status: "complete", records: 1 });
  });

  it("diagnostic export (activity-log-schema.md Storage/Event Hub example), as the {records} document", async () => {
    const { records } = await scan("PT1H.json", JSON.stringify({ records: [EXPORT] }, null, 4));
    expect(records.map(view)).toEqual([expected.export]);
  });

  it("a recorded REST page with the display name beside the operation (cloud-custodian cassette)", async () => {
    const { records } = await scan("recorded.json", JSON.stringify({ value: [RECORDED] }));
    expect(records.map(view)).toEqual([expected.custodian]);
  });

  it("Key Vault resource logs (resource-logs-blob-format.md) are recognised, counted apart, and do not widen the window", async () => {
    const kv = readFileSync(join(SHAPES, "keyvault-auditevent.jsonl"), "utf8");
    const { records, coverage } = await scan("mixed.jsonl", `${JSON.stringify(EXPORT)}\n${kv}`);
    expect(records.map(view)).toEqual([expected.export]);
    expect(coverage).toMatchObject({
      status: "complete",
      records: 1,
      notActivity: 2,
      from: expected.export?.time,
      to: expected.export?.time,
    });
    expect(coverage?.reason).toMatch(
      /^2 record\(s\) not Activity Log events, set aside \(first: mixed\.jsonl:2 is a resource or sign-in log record \(category "AuditEvent", operationName "VaultGet"\)/,
    );
  });
});

describe("one-change variants (derived) read as the sample they were derived from", () => {
  const bases = { export: EXPORT, rest: REST } as const;
  for (const v of VARIANTS) {
    for (const shape of v.shapes) {
      it(`${shape}: ${v.change}`, async () => {
        const line = JSON.stringify(v.apply(structuredClone(bases[shape])));
        const { records, coverage } = await scan(`${v.id}-${shape}.jsonl`, `${line}\n`);
        const want = { ...expected[shape] } as Json;
        // A pair written for the operation brings its display name along.
        if (v.id === "operationName-pair") want.operationLocalized = want.operationName;
        expect(records.map(view)).toEqual([want]);
        expect(coverage).toMatchObject({ status: "complete", records: 1 });
      });
    }
  }

  it("one minified line holding several records: each located by its element index", async () => {
    const doc = JSON.stringify([EXPORT, REST, { hello: "world" }]);
    const { records, coverage } = await scan("minified.json", doc);
    expect(records.map((r) => [r.origin.index, r.origin.element])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(coverage?.reason).toMatch(/minified\.json:1 \[element 2\] has an unknown record shape/);
  });

  it("an array of Event Hub batches, and batches under body as JSON text", async () => {
    const batches = [{ records: [EXPORT] }, { records: [EXPORT, EXPORT] }];
    expect((await scan("batches.json", JSON.stringify(batches, null, 2))).records).toHaveLength(3);
    const message = { body: JSON.stringify({ records: [EXPORT] }), enqueuedTimeUtc: "2019-01-21T22:15:00Z" };
    expect((await scan("message.json", JSON.stringify(message))).records.map(view)).toEqual([expected.export]);
  });

  it("UTF-16 with a byte-order mark (Windows PowerShell 5.1 Out-File) and UTF-8 with one", async () => {
    const text = `${JSON.stringify(EXPORT)}\r\n`;
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
    expect((await scan("ps51.json", le)).records.map(view)).toEqual([expected.export]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    expect((await scan("bom.json", bom)).records.map(view)).toEqual([expected.export]);
  });
});

describe("say why", () => {
  const why = (o: unknown) => {
    const c = classify(o, { location: "t" });
    return "error" in c ? c.error : "skipped" in c ? c.reason : "read";
  };

  it("names the missing field and what the record has", () => {
    const noOp = { ...EXPORT };
    delete noOp.operationName;
    expect(why(noOp)).toMatch(
      /^has no operation name: looked for operationName, OperationNameValue \(any case\); found fields time, resourceId, category/,
    );
    const noTime = { ...REST };
    delete noTime.eventTimestamp;
    delete noTime.submissionTimestamp;
    expect(why(noTime)).toMatch(
      /^has no time: looked for eventTimestamp, time, submissionTimestamp; found fields authorization/,
    );
    expect(why({ hello: 1 })).toMatch(
      /looked for an Activity Log event: operationName or OperationNameValue.*found fields hello$/,
    );
    expect(why([1])).toBe("is not a JSON object (found an array)");
  });

  it("rejects an unparseable time, never compares it as text", () => {
    expect(why({ ...EXPORT, time: "21/01/2019 22:14" })).toBe(
      'has a time that is not an ISO-8601 date-time: time "21/01/2019 22:14"',
    );
    expect(utcTime("2019-01-22T00:14:26.9792776+02:00")).toBe("2019-01-21T22:14:26.9792776Z");
    expect(utcTime("2019-01-21 22:14:26")).toBe("2019-01-21T22:14:26Z");
    expect(utcTime("2019-13-45T00:00:00+01:00")).toBeUndefined();
  });

  it("a time that is not ISO-8601 is counted and located, and the window is what could be read", async () => {
    const bad = JSON.stringify({ ...EXPORT, time: "Jan 1 1970" });
    const { coverage } = await scan("badtime.jsonl", `${JSON.stringify(EXPORT)}\n${bad}\n`);
    expect(coverage).toMatchObject({ status: "partial", unreadable: 1, from: expected.export?.time });
    expect(coverage?.reason).toMatch(
      /badtime\.jsonl:2 has a time that is not an ISO-8601 date-time: time "Jan 1 1970"/,
    );
  });
});

describe("display names (localized operation names)", () => {
  it("a REST record with only the display name maps to the operation", async () => {
    const onlyDisplay = { ...RECORDED, operationName: { localizedValue: "Create or Update Virtual Machine" } };
    const { records } = await scan("display.jsonl", `${JSON.stringify(onlyDisplay)}\n`);
    expect(records.map(view)).toEqual([expected.custodian]);
  });

  it("an AzureActivity row whose OperationName is the display name only", () => {
    const row = {
      Type: "AzureActivity",
      TimeGenerated: "2019-05-01T15:20:04.8336028Z",
      OperationName: "Run Command on Virtual Machine",
    };
    const c = classify(row, { location: "t" });
    expect("records" in c && c.records[0]?.kind === "activity" && c.records[0].operation).toBe(
      "microsoft.compute/virtualmachines/runcommand/action",
    );
  });

  it("a display name no source maps is counted as not resolvable: the scan is partial, not blind", async () => {
    const unknown = { ...RECORDED, operationName: { localizedValue: "Do Something Unlisted" } };
    const { records, coverage } = await scan("unknown.jsonl", `${JSON.stringify(unknown)}\n`);
    expect(records).toEqual([]);
    expect(coverage).toMatchObject({ status: "partial", unresolved: 1 });
    expect(coverage?.reason).toMatch(/1 record\(s\) with an operation name not resolvable .*"Do Something Unlisted"/);
  });
});

describe("files as users have them", () => {
  it("a one-line minified document larger than the 32 MiB line limit is read record by record", async () => {
    const one = JSON.stringify(EXPORT);
    const n = Math.ceil((33 * 1024 * 1024) / one.length);
    const file = join(tmp.dir, "huge.json");
    writeFileSync(file, `{"records":[${Array.from({ length: n }, () => one).join(",")}]}`);
    const c = new FilesCollector([file], { workers: 1 });
    const tally = new CoverageTally();
    let count = 0;
    let last: AuditRecord | undefined;
    for await (const batch of c.collect(await c.plan(), { tally, diagnostics: new Diagnostics() }))
      for (const x of batch)
        if (x.kind === "activity") {
          count++;
          last = x;
        }
    expect(count).toBe(n);
    expect(last?.origin).toMatchObject({ index: 1, element: n - 1 });
    expect(tally.entries()[0]).toMatchObject({ status: "complete", records: n });
  }, 120_000);

  it("JSON Lines whose first line is longer than the mode peek are still read line by line", async () => {
    const big = { ...EXPORT, properties: { pad: "x".repeat(1_100_000) } };
    const { records } = await scan("longfirst.jsonl", `${JSON.stringify(big)}\n${JSON.stringify(EXPORT)}\n`);
    expect(records).toHaveLength(2);
  });

  it("a REST record given an export's `time` instead of eventTimestamp keeps its REST claims", () => {
    const mixed = rename(REST, "eventTimestamp", "time");
    delete mixed.submissionTimestamp;
    const c = classify(mixed, { location: "t" });
    expect("records" in c && view(c.records[0] as AuditRecord)).toEqual(expected.rest);
  });

  it("field names in another case at every level", () => {
    const shouting = rename(rename(REST, "httpRequest", "HTTPREQUEST"), "claims", "Claims");
    const c = classify(shouting, { location: "t" });
    expect("records" in c && view(c.records[0] as AuditRecord)).toEqual(expected.rest);
  });
});
