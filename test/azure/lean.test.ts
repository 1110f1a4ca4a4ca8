/**
 * The lean reader's byte hashes (what worker threads apply to baselines) agree with the string
 * fields the full path hashes, line by line, over a generated corpus of both shapes and over
 * edge cases of the derived fields (IP prefixes, top-level resource ids).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { F_TIME, LeanReader, leanActivity } from "../../src/azure/normalize/lean.js";
import { LEAN_TUPLE_BYTES, LEAN_TUPLE_FIELDS } from "../../src/azure/prefilter.js";
import { type PartHash, partHash } from "../../src/engine/state.js";
import type { ActivityObservation } from "../../src/model/records.js";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const NONE: ReadonlySet<string> = new Set();

/** Every field's hash both ways for the line bytes[start, end); the reader's verdict. */
function compare(reader: LeanReader, bytes: Buffer, start: number, end: number): boolean {
  const read = reader.read(bytes, start, end);
  const fields = leanActivity(bytes, start, end, NONE);
  expect(read).toBe(fields !== undefined);
  if (!read || !fields) return false;
  expect(reader.text(F_TIME)).toBe(fields.time);
  const o = { kind: "observation", ...fields } as ActivityObservation;
  for (const [name, get] of Object.entries(LEAN_TUPLE_FIELDS)) {
    const v = get(o);
    const out: PartHash = { a: 0, b: 0 };
    const got = LEAN_TUPLE_BYTES[name]?.(reader, out);
    if (v === undefined || v === "") expect(got, name).toBe(false);
    else {
      expect(got, `${name} of ${v}`).toBe(true);
      expect(out, `${name} of ${v}`).toEqual(partHash(v));
    }
  }
  return true;
}

describe("lean byte hashes", () => {
  it("equal the string hashes on every line of generated corpora", () => {
    const reader = new LeanReader(NONE);
    for (const shape of ["export", "rest"]) {
      const out = join(tmp.dir, `${shape}.jsonl`);
      execFileSync(process.execPath, [
        join(PACKAGE_ROOT, "bench/generate.mjs"),
        ...["--events", "3000", "--mix", "0.05", "--shape", shape, "--seed", "11", "--out", out],
      ]);
      let text = readFileSync(out, "utf8");
      if (shape === "rest")
        text = text
          .split("\n")
          .filter(Boolean)
          .flatMap((l) => (JSON.parse(l) as { value: unknown[] }).value.map((e) => JSON.stringify(e)))
          .join("\n");
      const bytes = Buffer.from(text);
      let read = 0;
      let start = 0;
      while (start < bytes.length) {
        let end = bytes.indexOf(10, start);
        if (end < 0) end = bytes.length;
        if (compare(reader, bytes, start, end)) read++;
        start = end + 1;
      }
      expect(read, shape).toBeGreaterThan(2500);
    }
  });

  const line = (resourceId: string, ip: string) =>
    JSON.stringify({
      time: "2026-11-01T00:00:00.0000000Z",
      resourceId,
      operationName: "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE",
      category: "Administrative",
      resultType: "Success",
      callerIpAddress: ip,
      identity: {
        claims: {
          appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
          "http://schemas.microsoft.com/identity/claims/objectidentifier": "1b3c0a52-9f5e-4a37-8f2e-0c6f1d2a9b11",
        },
      },
    });

  it.each([
    ["/subscriptions/S/resourceGroups/R/providers/Microsoft.Web/sites/app/functions/f", "203.0.113.7"],
    ["/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.WEB/SITES/APP", "2001:DB8:0:1::5"],
    ["/subscriptions/S/resourceGroups/R", "1.2.3"],
    ["/subscriptions/S/providers//x/providers/A.B/c/d/e", "1.2.3.4.5"],
    ["/subscriptions/S/providers/A.B/c/providers/X.Y/z/w", "1234.1.1.1"],
    ["/providers/providers/a/b/c", "10.0.0.1"],
    ["/subscriptions/S/providers/Microsoft.ContainerRegistry/registries/acr1/importImage", "198.51.100.1"],
  ])("equal the string hashes for %s from %s", (id, ip) => {
    const bytes = Buffer.from(line(id, ip));
    expect(compare(new LeanReader(NONE), bytes, 0, bytes.length)).toBe(true);
  });
});
