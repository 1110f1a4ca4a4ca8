/**
 * The bundled demo tenant (demo/tenant, made by scripts/generate-demo.ts): the planted attack
 * comes out with every technique the brief names, each finding leads back to its source
 * records, the benign tenant stays quiet, and no secret from the snapshot reaches any output.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "../src/cli/main.js";
import type { Finding } from "../src/model/finding.js";
import type { ActivityEvent, AuditRecord } from "../src/model/records.js";
import { BUILTIN_RULES_DIR, DEMO_TENANT_DIR } from "../src/paths.js";
import { evidenceOf, readAll } from "./helpers.js";
import { sarifErrors, validateSarif } from "./sarif-validator.js";

async function scan(format: string, ...extra: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(["scan", "--no-state", "--demo", "--format", format, ...extra], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    isTTY: false,
  });
  return { code, stdout, stderr };
}

const { records } = await readAll([DEMO_TENANT_DIR]);
const json = await scan("json");
const report = JSON.parse(json.stdout) as {
  scan: { complete: boolean; coverage: { records: number }[] };
  findings: Finding[];
};
const activity = records.filter((r): r is ActivityEvent => r.kind === "activity");
// The attacker is whoever used the planted IP (demo/README.md); derived, not hard-coded.
const ATTACK_IP = "203.0.113.77";
const attackEvents = activity.filter((e) => e.callerIpAddress === ATTACK_IP);
const attacker = attackEvents[0]?.principal.id;
const attackFrom = attackEvents.map((e) => e.time).sort()[0] as string;
const attackTo = attackEvents
  .map((e) => e.time)
  .sort()
  .at(-1) as string;

describe("demo tenant", () => {
  it("is a real tenant-sized snapshot: two subscriptions, over a thousand benign records", () => {
    const subs = new Set(activity.map((e) => e.subscriptionId?.toLowerCase()));
    expect(subs.size).toBeGreaterThanOrEqual(2);
    expect(activity.length - attackEvents.length).toBeGreaterThan(1000);
    expect(report.scan.complete).toBe(true);
    expect(json.code).toBe(0);
  });

  it("reports the attack with T1651, T1648, T1059.009 and T1204.003", () => {
    const techniques = new Set(report.findings.flatMap((f) => f.attack.techniques));
    for (const t of ["T1651", "T1648", "T1059.009", "T1204.003"]) expect(techniques, t).toContain(t);
    expect(techniques).not.toContain("T1078.001");
    expect(techniques).not.toContain("T1204.004");
  });

  it("gives every finding subscription, resource, principal, time and evidence", () => {
    for (const f of report.findings) {
      expect(f.subscriptionId, f.title).toMatch(/^[0-9a-f-]{36}$/);
      expect(f.resourceId, f.title).toMatch(/^\/subscriptions\//i);
      expect(f.principal.id, f.title).toBeTruthy();
      expect(Date.parse(f.time), f.title).not.toBeNaN();
      expect(f.evidence.records.length, f.title).toBeGreaterThan(0);
    }
  });

  it("leads from each finding back to source records that exist in the snapshot", () => {
    const ids = new Set<string>();
    for (const r of records as AuditRecord[]) {
      ids.add(r.id.toLowerCase());
      if (r.kind === "activity" && r.eventDataId) ids.add(r.eventDataId.toLowerCase());
    }
    for (const f of report.findings) {
      for (const e of f.evidence.records) {
        expect(ids.has(e.id.toLowerCase()), `${f.title}: ${e.kind} ${e.id}`).toBe(true);
        expect(e.location, f.title).toContain("demo");
      }
    }
  });

  it("stays quiet on the benign records: every finding is the attacker's, inside the attack window", () => {
    expect(attacker).toBeTruthy();
    expect(report.findings.length).toBeGreaterThanOrEqual(8);
    for (const f of report.findings) {
      expect(f.principal.id?.toLowerCase(), f.title).toBe(attacker?.toLowerCase());
      expect(f.time >= attackFrom && f.time <= attackTo, `${f.title} at ${f.time}`).toBe(true);
    }
  });

  it("shows the payloads that ran: the second-stage script, the package URL and the miner", () => {
    const text = JSON.stringify(report.findings);
    expect(text).toContain("stage"); // run command script text (redacted form kept readable)
    expect(text).toMatch(/https:\/\/cdn-updates\.example\.net\/pkg\/sync\.zip/);
    expect(text).toContain("stratum+tcp://pool.example.org:3333");
  });

  it("groups Started/Accepted/Succeeded of one operation into one finding", () => {
    const rc = report.findings.filter(
      (f) => f.operation?.toLowerCase() === "microsoft.compute/virtualmachines/runcommands/write",
    );
    expect(rc).toHaveLength(1);
    expect(evidenceOf(rc[0], "activity").statuses).toEqual(expect.arrayContaining(["Started", "Succeeded"]));
  });

  it("tells the attack as one chain: grant, run command, function app, image import, container", () => {
    const chain = report.findings.find((f) => f.ruleId === "0d3ab25c-d946-4f4b-b911-ba443af9d210");
    expect(chain, "grant-then-execute chain").toBeDefined();
    const steps = evidenceOf(chain, "chain").steps as { operation: string; findings?: string[] }[];
    const ops = steps.map((s) => s.operation.toLowerCase());
    for (const op of [
      "microsoft.authorization/roleassignments/write",
      "microsoft.compute/virtualmachines/runcommands/write",
      "microsoft.web/sites/write",
      "microsoft.containerregistry/registries/importimage/action",
      "microsoft.containerinstance/containergroups/write",
    ]) {
      expect(ops, op).toContain(op);
    }
    expect(ops.indexOf("microsoft.authorization/roleassignments/write")).toBe(0);
    // The chain links to the single-rule findings on its steps and carries their techniques.
    expect(steps.filter((s) => (s.findings ?? []).length > 0).length).toBeGreaterThanOrEqual(5);
    for (const t of ["T1098.003", "T1651", "T1648", "T1204.003", "T1059.009"])
      expect(chain?.attack.techniques).toContain(t);
    expect(chain?.severity).toBe("critical");
  });

  it("holds only the attack: the compromised pipeline's usual releases that day are not steps", () => {
    const chain = report.findings.find((f) => f.ruleId === "0d3ab25c-d946-4f4b-b911-ba443af9d210");
    const steps = evidenceOf(chain, "chain").steps as { operation: string; resourceId: string; findings?: string[] }[];
    // The grant and the six operations of the attack; before, the releases to rg-web and to the
    // dev subscription the same afternoon (known runner range, certificate) made 13.
    expect(steps).toHaveLength(7);
    for (const s of steps) {
      expect(s.resourceId.toLowerCase()).not.toMatch(/\/deployments\/release-|app-contoso-web|orders-dev/);
      expect(s.resourceId.toLowerCase()).toContain("/subscriptions/8b1811f6-5813-475a-8054-5d2939bd681f/");
    }
    // Every step after the grant is a finding of its own or new for the identity; on the demo, all of them are findings.
    expect(steps.slice(1).every((s) => (s.findings ?? []).length > 0)).toBe(true);
  });

  it("lists the vectors no input could show (vectors.yml evidence none) in JSON and the table", async () => {
    const vectors = (
      parse(readFileSync(join(BUILTIN_RULES_DIR, "vectors.yml"), "utf8")) as {
        vectors: { id: number; evidence?: string[] }[];
      }
    ).vectors;
    const none = vectors.filter((v) => (v.evidence ?? []).length === 0).map((v) => v.id);
    expect(none.length).toBeGreaterThan(0);
    const listed = (report.scan as { notObservable?: { vector: number }[] }).notObservable ?? [];
    expect(listed.map((v) => v.vector)).toEqual(none);
    expect((await scan("table")).stdout).toContain(`Not observable: ${none.length} execution vectors`);
  });

  it("reads the whole bundled snapshot, layer blobs included, with nothing to report about it", () => {
    expect(report.scan.complete).toBe(true);
    expect((report.scan.coverage as { reason?: string }[]).map((c) => c.reason)).toEqual([undefined]);
  });

  it("exits 1 with --fail-on high", async () => {
    expect((await scan("json", "--fail-on", "high")).code).toBe(1);
  });

  it("writes SARIF that validates against the SARIF 2.1.0 schema", async () => {
    const sarif = JSON.parse((await scan("sarif")).stdout);
    expect(validateSarif(sarif), sarifErrors()).toBe(true);
    expect(sarif.runs[0].results.length).toBe(report.findings.length);
  });

  it("never prints a secret from the snapshot (storage keys, SAS signatures) in any format", async () => {
    const secrets = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else {
          const buf = readFileSync(p);
          const text = (name.endsWith(".gz") ? gunzipSync(buf) : buf).toString("utf8");
          for (const m of text.matchAll(/AccountKey=([A-Za-z0-9+/=]{20,})/g)) secrets.add(m[1] as string);
          for (const m of text.matchAll(/[?&]sig=([A-Za-z0-9%+/=]{10,})/g)) secrets.add(m[1] as string);
        }
      }
    };
    walk(DEMO_TENANT_DIR);
    expect(secrets.size).toBeGreaterThan(0);
    for (const format of ["json", "sarif", "table"]) {
      const out = (await scan(format)).stdout;
      for (const s of secrets) expect(out.includes(s), `${format} leaks ${s.slice(0, 6)}…`).toBe(false);
    }
  });
});
