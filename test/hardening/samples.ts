/**
 * The good records the property tests start from, and the mutations they apply. Every good record
 * is a real sample: the Azure REST API specs' examples and the Azure Monitor docs' export example
 * (test/fixtures/reference, provenance in its SOURCES.md), and two records of the demo tenant
 * (demo/tenant, whose shapes follow those samples) that carry findings — a run command whose
 * script downloads and runs a file, and a miner image.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { exampleBody, ref } from "../helpers.js";

type Json = Record<string, unknown>;

const demo = (path: string): unknown => JSON.parse(readFileSync(join(DEMO_TENANT_DIR, path), "utf8"));

/** Named good records, each one line of JSON Lines. */
export const GOOD: ReadonlyArray<{ name: string; value: Json }> = [
  // Activity Log, REST shape (azure-rest-api-specs GetActivityLogsFiltered.json).
  { name: "rest-activity", value: (exampleBody("GetActivityLogsFiltered.json") as { value: Json[] }).value[0] as Json },
  // Activity Log, diagnostic export shape (Azure Monitor docs, activity-log-schema).
  { name: "export-activity", value: (ref("activity-export-example.json") as { records: Json[] }).records[0] as Json },
  // Role assignment and definition (Microsoft.Authorization examples).
  {
    name: "role-assignment",
    value: (exampleBody("RoleAssignments_ListForScope.json") as { value: Json[] }).value[0] as Json,
  },
  { name: "role-definition", value: exampleBody("GetRoleDefinitionById.json") as Json },
  // A web app (Microsoft.Web WebApps_Get) and its app settings (WebApps_ListApplicationSettings,
  // the same site's id): joined into one record.
  { name: "site", value: exampleBody("GetWebApp.json") as Json },
  { name: "appsettings", value: exampleBody("ListAppSettings.json") as Json },
  // A runbook and a Logic App (Microsoft.Automation, Microsoft.Logic examples).
  { name: "runbook", value: exampleBody("getRunbook.json") as Json },
  { name: "workflow", value: exampleBody("Workflows_Get.json") as Json },
  // Container image envelope (docs/inputs.md): the ACR GetManifest example and the OCI config example.
  {
    name: "image",
    value: {
      registry: "myregistry.azurecr.io",
      repository: "hello-world",
      tags: ["latest"],
      digest: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
      manifest: (ref("GetManifest.json") as { responses: { "200": { body: Json } } }).responses["200"].body
        .manifest as Json,
      config: ref("oci-config-example.json") as Json,
    },
  },
  // Findings carriers from the demo tenant.
  {
    name: "demo-run-command",
    value: (demo("resources/8b1811f6-5813-475a-8054-5d2939bd681f-runCommands.json") as { value: Json[] })
      .value[0] as Json,
  },
  { name: "demo-miner-image", value: demo("images/contosoprodacr/tools_updater/10b7c511afb3.json") as Json },
];

/** A mutation of one line: `mustFail` when no reader may accept it as a record. */
export interface Mutated {
  kind: string;
  bytes: Buffer;
  mustFail: boolean;
}

const paths = (v: unknown, prefix: string[] = [], out: string[][] = []): string[][] => {
  if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      if (out.length < 400) paths(x, [...prefix, k], out);
    }
  return out;
};

function setAt(root: unknown, path: readonly string[], value: unknown, remove = false): unknown {
  const copy = structuredClone(root) as Json;
  let o: Json = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Json;
  const last = path[path.length - 1] as string;
  if (remove) delete o[last];
  else o[last] = value;
  return copy;
}

const deep = (levels: number, open: string, close: string, inner = "1"): string =>
  `${open.repeat(levels)}${inner}${close.repeat(levels)}`;

/** A mutation of the good record `g`, chosen by fast-check. */
export function mutation(): fc.Arbitrary<(g: Json) => Mutated> {
  const at = fc.nat();
  return fc.oneof(
    // Truncated: a proper prefix of a JSON object is never JSON.
    fc.record({ cut: fc.double({ min: 0.01, max: 0.99, noNaN: true }) }).map(({ cut }) => (g: Json) => {
      const s = JSON.stringify(g);
      return {
        kind: "truncated",
        bytes: Buffer.from(s.slice(0, Math.max(1, Math.floor(s.length * cut)))),
        mustFail: true,
      };
    }),
    // A raw NUL (or other C0 control) inside a string: not JSON.
    fc.record({ i: at, c: fc.integer({ min: 0, max: 0x1f }) }).map(({ i, c }) => (g: Json) => {
      const s = JSON.stringify(g);
      const quotes = [...s.matchAll(/":"/g)].map((m) => (m.index as number) + 3);
      const p = quotes[i % Math.max(1, quotes.length)] ?? 1;
      return {
        kind: "raw-control",
        bytes: Buffer.from(s.slice(0, p) + String.fromCharCode(c === 0x0a || c === 0x0d ? 0 : c) + s.slice(p)),
        mustFail: true,
      };
    }),
    // Invalid UTF-8 inside a string value: read as U+FFFD, so it may still be a record.
    fc.record({ i: at, junk: fc.uint8Array({ minLength: 1, maxLength: 8 }) }).map(({ i, junk }) => (g: Json) => {
      const b = Buffer.from(JSON.stringify(g));
      const quotes = [...b.toString("latin1").matchAll(/":"/g)].map((m) => (m.index as number) + 3);
      const p = quotes[i % Math.max(1, quotes.length)] ?? 1;
      const bad = Buffer.from(junk.map((x) => 0x80 | (x & 0x7f))); // continuation bytes with no lead
      return { kind: "invalid-utf8", bytes: Buffer.concat([b.subarray(0, p), bad, b.subarray(p)]), mustFail: false };
    }),
    // A value of the wrong type anywhere in the record.
    fc.record({ i: at, v: fc.jsonValue({ maxDepth: 3 }) }).map(({ i, v }) => (g: Json) => {
      const ps = paths(g);
      const p = ps[i % ps.length] as string[];
      return { kind: "wrong-type", bytes: Buffer.from(JSON.stringify(setAt(g, p, v))), mustFail: false };
    }),
    // A missing key.
    at.map((i) => (g: Json) => {
      const ps = paths(g);
      const p = ps[i % ps.length] as string[];
      return { kind: "missing-key", bytes: Buffer.from(JSON.stringify(setAt(g, p, undefined, true))), mustFail: false };
    }),
    // A duplicated top-level key (the last one wins in JSON.parse).
    fc.record({ i: at, v: fc.jsonValue({ maxDepth: 2 }) }).map(({ i, v }) => (g: Json) => {
      const keys = Object.keys(g);
      const k = keys[i % keys.length] as string;
      const s = JSON.stringify(g);
      return {
        kind: "duplicate-key",
        bytes: Buffer.from(`${s.slice(0, -1)},${JSON.stringify(k)}:${JSON.stringify(v)}}`),
        mustFail: false,
      };
    }),
    // A huge string (1-3 MiB) in place of any value.
    fc.record({ i: at, mb: fc.integer({ min: 1, max: 3 }) }).map(({ i, mb }) => (g: Json) => {
      const ps = paths(g);
      const p = ps[i % ps.length] as string[];
      return {
        kind: "huge-string",
        bytes: Buffer.from(JSON.stringify(setAt(g, p, "x".repeat(mb << 20)))),
        mustFail: false,
      };
    }),
    // A huge array.
    fc.record({ i: at }).map(({ i }) => (g: Json) => {
      const ps = paths(g);
      const p = ps[i % ps.length] as string[];
      return {
        kind: "huge-array",
        bytes: Buffer.from(JSON.stringify(setAt(g, p, new Array(200_000).fill(0)))),
        mustFail: false,
      };
    }),
    // Deep nesting (100k levels) in a value, as objects or arrays, closed (valid JSON) or not.
    fc.record({ i: at, arr: fc.boolean(), closed: fc.boolean() }).map(({ i, arr, closed }) => (g: Json) => {
      const ps = paths(g);
      const p = ps[i % ps.length] as string[];
      const marker = "\u0000DEEP\u0000";
      const s = JSON.stringify(setAt(g, p, marker));
      const nest = arr ? deep(100_000, "[", closed ? "]" : "") : deep(100_000, '{"a":', closed ? "}" : "");
      return {
        kind: `deep-${arr ? "array" : "object"}${closed ? "" : "-open"}`,
        bytes: Buffer.from(s.replace(JSON.stringify(marker), nest)),
        mustFail: !closed,
      };
    }),
    // A whole line of junk that starts like JSON.
    fc.string({ maxLength: 200 }).map((junk) => () => ({
      kind: "junk",
      bytes: Buffer.from(`{${junk.replace(/[\r\n]/g, " ")}`),
      mustFail: (() => {
        try {
          JSON.parse(`{${junk.replace(/[\r\n]/g, " ")}`);
          return false;
        } catch {
          return true;
        }
      })(),
    })),
  );
}

/**
 * Runs per property: `n` by default (the suite stays fast on two cores); HARDENING_RUNS=10 runs
 * ten times as many, for a longer search before a release.
 */
export function runs(n: number): number {
  const k = Number(process.env.HARDENING_RUNS ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(k) && k > 0 ? k : 1)));
}
