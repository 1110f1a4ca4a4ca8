/** The files collector: plan (usage errors first), collect (records and coverage per input), abort. */
import { execFileSync } from "node:child_process";
import { createWriteStream, symlinkSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { FilesCollector, type FilesPlan } from "../../src/collectors/files/index.js";
import { CoverageTally } from "../../src/collectors/tally.js";
import type { CollectionPlan } from "../../src/collectors/types.js";
import { Diagnostics } from "../../src/model/diagnostics.js";
import type { AuditRecord } from "../../src/model/records.js";
import { UsageError } from "../../src/util/errors.js";
import { exampleBody, ref, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** One REST Activity Log event (2015-01-21T22:14:26.9792776Z) and one diagnostic export event (2019-…). */
const restPage = exampleBody("GetActivityLogsFiltered.json") as { value: unknown[] };
const exportBatch = ref("activity-export-example.json") as { records: unknown[] };
const REST_TIME = "2015-01-21T22:14:26.9792776Z";
const EXPORT_TIME = "2019-01-21T22:14:26.9792776Z";

async function run(paths: string[], abortSignal?: AbortSignal) {
  const collector = new FilesCollector(paths);
  const plan = await collector.plan();
  const tally = new CoverageTally();
  const records: AuditRecord[] = [];
  for await (const r of collector.collect(plan, { tally, diagnostics: new Diagnostics(), abortSignal }))
    for (const x of r) if (x.kind !== "observation" && x.kind !== "observations") records.push(x);
  return { plan, records, coverage: tally.entries() };
}

describe("plan", () => {
  it("a missing path, an empty directory, a non-file and no input at all are usage errors", async () => {
    tmp.write("empty/README.txt", "nothing to read");
    await expect(new FilesCollector([`${tmp.dir}/nope`]).plan()).rejects.toThrow(
      new UsageError(`input path does not exist or cannot be read: ${tmp.dir}/nope`),
    );
    await expect(new FilesCollector([`${tmp.dir}/empty`]).plan()).rejects.toThrow(
      new UsageError(`input directory has no .json, .jsonl or .gz files: ${tmp.dir}/empty`),
    );
    await expect(new FilesCollector(["/dev/null"]).plan()).rejects.toThrow(
      new UsageError("input is neither a file nor a directory: /dev/null"),
    );
    await expect(new FilesCollector([]).plan()).rejects.toBeInstanceOf(UsageError);
  });

  it("a bad snapshot.json is a usage error", async () => {
    tmp.write("badmeta/snapshot.json", "{ not json");
    tmp.write("badmeta/activity/rest.json", JSON.stringify(restPage));
    tmp.write("arraymeta/snapshot.json", "[]");
    tmp.write("arraymeta/activity/rest.json", JSON.stringify(restPage));
    await expect(new FilesCollector([`${tmp.dir}/badmeta`]).plan()).rejects.toThrow(
      new UsageError(`snapshot metadata is not valid JSON: ${tmp.dir}/badmeta/snapshot.json`),
    );
    await expect(new FilesCollector([`${tmp.dir}/arraymeta`]).plan()).rejects.toThrow(
      new UsageError(`snapshot metadata must be a JSON object: ${tmp.dir}/arraymeta/snapshot.json`),
    );
  });

  it("every input is resolved before anything is read, and data files are not opened by plan", async () => {
    const good = tmp.write("first/rest.json", JSON.stringify(restPage));
    await expect(new FilesCollector([good, `${tmp.dir}/missing`]).plan()).rejects.toBeInstanceOf(UsageError);
    // Garbage in a data file is not a usage error: plan does not read it, collect reports it.
    const garbage = tmp.write("garbage/data.json", "hello, world");
    await expect(new FilesCollector([garbage]).plan()).resolves.toMatchObject({ scopes: [garbage] });
  });

  it("returns the input paths as scopes, the files per input, and the widest declared window", async () => {
    tmp.write(
      "snapA/snapshot.json",
      JSON.stringify({ window: { from: "2026-10-01T00:00:00Z", to: "2026-10-31T00:00:00Z" } }),
    );
    tmp.write("snapA/activity/b.json", JSON.stringify(restPage));
    tmp.write("snapA/activity/a.jsonl.gz", "");
    tmp.write(
      "snapB/snapshot.json",
      JSON.stringify({ window: { from: "2026-09-15T00:00:00Z", to: "2026-10-20T00:00:00Z" } }),
    );
    tmp.write("snapB/activity.json", JSON.stringify(restPage));
    const plain = tmp.write("plain.json", JSON.stringify(restPage));
    const plan = await new FilesCollector([`${tmp.dir}/snapA`, `${tmp.dir}/snapB`, plain]).plan();
    expect(plan.source).toBe("files");
    expect(plan.scopes).toEqual([`${tmp.dir}/snapA`, `${tmp.dir}/snapB`, plain]);
    expect(plan.window).toEqual({ from: "2026-09-15T00:00:00Z", to: "2026-10-31T00:00:00Z" });
    expect(plan.inputs[0]?.files).toEqual([`${tmp.dir}/snapA/activity/a.jsonl.gz`, `${tmp.dir}/snapA/activity/b.json`]);
    expect(plan.inputs[2]).toEqual({ path: plain, files: [plain], notRead: [] });
    expect((await new FilesCollector([plain]).plan()).window).toBeUndefined();
  });
});

describe("coverage", () => {
  it("complete: every record read, the window is what was read", async () => {
    const f = tmp.write("export.json", JSON.stringify(exportBatch));
    const { records, coverage } = await run([f]);
    expect(records.map((r) => r.kind)).toEqual(["activity"]);
    expect(coverage).toEqual([
      { source: "files", scope: f, status: "complete", records: 1, from: EXPORT_TIME, to: EXPORT_TIME },
    ]);
  });

  it("a snapshot's declared window wins; a file that is not JSON is named and makes the input partial", async () => {
    tmp.write("snap/snapshot.json", JSON.stringify({ window: { from: "2019-01-01T00:00:00Z" } }));
    tmp.write("snap/activity/export.json", JSON.stringify(exportBatch));
    tmp.write("snap/notes.txt", "not data");
    tmp.write("snap/README.md", "ignored silently");
    const { coverage } = await run([`${tmp.dir}/snap`]);
    expect(coverage).toEqual([
      {
        source: "files",
        scope: `${tmp.dir}/snap`,
        status: "partial",
        records: 1,
        from: "2019-01-01T00:00:00Z",
        to: EXPORT_TIME,
        reason:
          "1 file(s) could not be read. first: notes.txt was not read: not JSON or JSON Lines by its first bytes (pass --exclude to skip it on purpose)",
      },
    ]);
    // Excluded on purpose: complete.
    const excluded = new FilesCollector([`${tmp.dir}/snap`], { exclude: ["*.txt"] });
    const tally = new CoverageTally();
    for await (const _ of excluded.collect(await excluded.plan(), { tally, diagnostics: new Diagnostics() })) {
      // drained
    }
    expect(tally.entries()[0]).toMatchObject({ status: "complete", records: 1 });
  });

  it("reads a named pipe (what process substitution hands over) through a copy", async () => {
    const fifo = `${tmp.dir}/pipe`;
    execFileSync("mkfifo", [fifo]);
    const writer = createWriteStream(fifo);
    writer.end(`${JSON.stringify(exportBatch.records[0])}\n`);
    const { records, coverage } = await run([fifo]);
    expect(records).toHaveLength(1);
    expect(coverage[0]).toMatchObject({ scope: fifo, status: "complete", records: 1 });
  });

  it("reads JSON whatever the file's name (.log, no extension), follows symbolic links", async () => {
    const line = JSON.stringify(exportBatch.records[0]);
    tmp.write("named/events.log", `${line}\n`);
    tmp.write("named/export", `${line}\n`);
    const target = tmp.write("elsewhere/linked.json", `${line}\n`);
    symlinkSync(target, `${tmp.dir}/named/link.json`);
    symlinkSync(`${tmp.dir}/elsewhere`, `${tmp.dir}/named/dirlink`);
    symlinkSync(`${tmp.dir}/named`, `${tmp.dir}/named/loop`);
    symlinkSync(`${tmp.dir}/nowhere`, `${tmp.dir}/named/broken.json`);
    const { records, coverage } = await run([`${tmp.dir}/named`]);
    expect(records).toHaveLength(4);
    expect(coverage[0]).toMatchObject({ status: "partial", records: 4 });
    expect(coverage[0]?.reason).toMatch(/broken\.json is a broken symbolic link/);
  });

  it("partial: unreadable records and failed files are counted and located relative to the input", async () => {
    const rest = JSON.stringify(restPage.value[0]);
    tmp.write("part/rest.jsonl", `${rest}\n${JSON.stringify({ hello: "world" })}\n${rest.slice(0, 40)}\n`);
    tmp.write("part/sub/notes.json", "hello, world");
    tmp.write("part/export.json", JSON.stringify(exportBatch));
    const { records, coverage } = await run([`${tmp.dir}/part`]);
    expect(records).toHaveLength(2);
    const [e] = coverage;
    expect(e).toMatchObject({ status: "partial", records: 2, unreadable: 2, from: REST_TIME, to: EXPORT_TIME });
    expect(e?.reason).toMatch(
      /^2 unreadable record\(s\) skipped\. 1 file\(s\) could not be read\. first: rest\.jsonl:2 has an unknown record shape .*; rest\.jsonl:3 not valid JSON .*; sub\/notes\.json is not JSON or JSON Lines$/,
    );
  });

  it("partial: app settings without their site", async () => {
    const f = tmp.write("orphan.json", JSON.stringify(exampleBody("ListAppSettings.json")));
    const { records, coverage } = await run([f]);
    expect(records).toEqual([]);
    expect(coverage[0]).toMatchObject({ status: "partial", records: 0, unreadable: 1 });
    expect(coverage[0]?.reason).toMatch(
      /first: orphan\.json app settings for \/subscriptions\/.* have no matching site record$/,
    );
  });

  it("failed: every file of the input could not be read", async () => {
    tmp.write("allbad/a.json", "nope");
    tmp.write("allbad/b.json.gz", "not gzip");
    const { coverage } = await run([`${tmp.dir}/allbad`]);
    expect(coverage).toEqual([
      {
        source: "files",
        scope: `${tmp.dir}/allbad`,
        status: "failed",
        records: 0,
        reason: expect.stringMatching(
          /^2 file\(s\) could not be read\. first: a\.json is not JSON or JSON Lines; b\.json\.gz /,
        ),
      },
    ]);
  });

  it("two inputs give two entries, in input order", async () => {
    const a = tmp.write("two/rest.json", JSON.stringify(restPage));
    const b = tmp.write("two/export.json", JSON.stringify(exportBatch));
    const { records, coverage } = await run([a, b]);
    expect(records).toHaveLength(2);
    expect(coverage.map((c) => [c.scope, c.status, c.records, c.from])).toEqual([
      [a, "complete", 1, REST_TIME],
      [b, "complete", 1, EXPORT_TIME],
    ]);
  });
});

describe("collect", () => {
  const three = tmp.write(
    "three.json",
    JSON.stringify({ value: [restPage.value[0], restPage.value[0], restPage.value[0]] }),
  );

  it("stops between batches once aborted, with an AbortError, and the file is not counted as failed", async () => {
    const many = tmp.write(
      "many.json",
      JSON.stringify({ value: Array.from({ length: 2000 }, () => restPage.value[0]) }, null, 1),
    );
    const collector = new FilesCollector([many]);
    const plan = await collector.plan();
    const tally = new CoverageTally();
    const ac = new AbortController();
    const seen: AuditRecord[] = [];
    const reading = (async () => {
      for await (const batch of collector.collect(plan, {
        tally,
        diagnostics: new Diagnostics(),
        abortSignal: ac.signal,
      })) {
        for (const r of batch) if (r.kind !== "observation" && r.kind !== "observations") seen.push(r);
        ac.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ name: "AbortError" });
    // One batch was read, then nothing more.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(2000);
    expect(tally.entries()[0]).toMatchObject({ records: seen.length, status: "complete" });
  });

  it("throws the signal's own reason, and reads nothing when aborted before it starts", async () => {
    const reason = new Error("scan cancelled");
    await expect(run([three], AbortSignal.abort(reason))).rejects.toBe(reason);
    const collector = new FilesCollector([three]);
    const plan = await collector.plan();
    const tally = new CoverageTally();
    const iter = collector.collect(plan, { tally, diagnostics: new Diagnostics(), abortSignal: AbortSignal.abort() });
    await expect(iter[Symbol.asyncIterator]().next()).rejects.toMatchObject({ name: "AbortError" });
    expect(tally.entries()).toEqual([]);
  });

  it("refuses a plan it did not make", async () => {
    const foreign: CollectionPlan = { source: "activity-log", scopes: ["sub-1"] };
    const iter = new FilesCollector([three]).collect(foreign, {
      tally: new CoverageTally(),
      diagnostics: new Diagnostics(),
    });
    await expect(iter[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(TypeError);
  });

  it("a plan survives being copied (the orchestrator may spread it)", async () => {
    const collector = new FilesCollector([three]);
    const plan: FilesPlan = { ...(await collector.plan()) };
    const tally = new CoverageTally();
    let n = 0;
    for await (const batch of collector.collect(plan, { tally, diagnostics: new Diagnostics() })) n += batch.length;
    expect(n).toBe(3);
  });
});

describe("joins across inputs", () => {
  it("a site and its app settings given as two --input paths are one Function App record", async () => {
    // REST spec examples GetWebApp.json and ListAppSettings.json (same site), in two directories.
    const site = tmp.write("join/sites/site.json", JSON.stringify(exampleBody("GetWebApp.json")));
    const settings = tmp.write("join/settings/appsettings.json", JSON.stringify(exampleBody("ListAppSettings.json")));
    const { records, coverage } = await run([
      site.replace(/\/site\.json$/, ""),
      settings.replace(/\/appsettings\.json$/, ""),
    ]);
    const apps = records.filter((r) => r.kind === "functionApp");
    expect(apps).toHaveLength(1);
    expect(apps[0]?.kind === "functionApp" && apps[0].appSettings).toEqual({ Setting1: "Value1", Setting2: "Value2" });
    expect(coverage.map((c) => c.status)).toEqual(["complete", "complete"]);
  });
  it("app settings whose site is in no input still make their input partial", async () => {
    const settings = tmp.write("alone/appsettings.json", JSON.stringify(exampleBody("ListAppSettings.json")));
    const { coverage } = await run([settings]);
    expect(coverage[0]?.status).toBe("partial");
    expect(coverage[0]?.reason).toMatch(/have no matching site record/);
  });
});
