/**
 * Findings scale with what is distinct (rule × principal × resource): occurrences merge with
 * counts and first/last times, the records listed do not depend on input order, and every
 * buffer that grows with the input has a bound that is reported when hit.
 */
import { describe, expect, it } from "vitest";
import { EVIDENCE_EACH_END, MAX_COUNTED_OCCURRENCES } from "../../src/engine/grouping.js";
import { DIAGNOSTIC_CODES } from "../../src/model/diagnostics.js";
import { runCase } from "../../src/rules/tester.js";
import { evidenceOf, packRule } from "../helpers.js";

const runCommand = await packRule("Managed Run Command created or updated on a VM");
const newIp = await packRule("Execution-capable ARM operation from an IP range new");

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute";
const claims = (oid: string) => ({ "http://schemas.microsoft.com/identity/claims/objectidentifier": oid });

/** REST shape, as the rule tests use it: one operation instance = Started + Succeeded (or Failed). */
function call(i: number, opts: { vm?: string; oid?: string; outcome?: "Succeeded" | "Failed"; day?: number } = {}) {
  const oid = opts.oid ?? "5a5a5a5a-0000-0000-0000-000000000001";
  const at = (s: number) =>
    `2026-11-${String(10 + (opts.day ?? 0)).padStart(2, "0")}T${String(Math.floor(i / 60) % 24).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}:${String(s).padStart(2, "0")}Z`;
  const base = {
    operationName: { value: "Microsoft.Compute/virtualMachines/runCommands/write" },
    correlationId: `c-${opts.vm ?? "vm1"}-${oid}-${i}-${opts.day ?? 0}`,
    caller: oid,
    claims: claims(oid),
    resourceId: `${SUB}/virtualMachines/${opts.vm ?? "vm1"}/runCommands/rc1`,
    httpRequest: { clientIpAddress: "192.0.2.10" },
  };
  return [
    { ...base, eventDataId: `s-${base.correlationId}`, eventTimestamp: at(1), status: { value: "Started" } },
    {
      ...base,
      eventDataId: `e-${base.correlationId}`,
      eventTimestamp: at(9),
      status: { value: opts.outcome ?? "Succeeded" },
    },
  ];
}

describe("occurrences merge into one finding per rule, principal and resource", () => {
  it("a thousand run commands on one VM by one identity are one finding with a count", () => {
    const records = Array.from({ length: 1000 }, (_, i) => call(i)).flat();
    const { findings } = runCase(runCommand, records);
    expect(findings).toHaveLength(1);
    const e = evidenceOf(findings[0], "activity");
    // Counted exactly up to MAX_COUNTED_OCCURRENCES, then marked as a lower bound.
    expect(e.occurrences).toBe(MAX_COUNTED_OCCURRENCES);
    expect(e.occurrencesAtLeast).toBe(true);
    expect(e.recordCount).toBe(2000);
    expect(e.records).toHaveLength(2 * EVIDENCE_EACH_END);
    expect(findings[0]?.time).toBe("2026-11-10T00:00:01Z");
    expect(e.lastTime).toBe(
      records
        .map((r) => r.eventTimestamp)
        .sort()
        .at(-1),
    );
  });
  it("counts occurrences exactly below the cap", () => {
    const { findings } = runCase(runCommand, Array.from({ length: 40 }, (_, i) => call(i)).flat());
    expect(evidenceOf(findings[0], "activity").occurrences).toBe(40);
    expect(evidenceOf(findings[0], "activity").occurrencesAtLeast).toBeUndefined();
  });
  it("findings scale with distinct (principal, resource), not with events", () => {
    const records = [0, 1, 2].flatMap((d) =>
      ["vm1", "vm2"].flatMap((vm) =>
        ["a", "b"].flatMap((p) => call(d, { vm, day: d, oid: `${p}aaaaaaa-0000-0000-0000-000000000001` })),
      ),
    );
    expect(runCase(runCommand, records).findings).toHaveLength(4);
  });
  it("the records listed and every field are the same whatever the input order", () => {
    const records = Array.from({ length: 200 }, (_, i) => call(i)).flat();
    const shuffled = [...records].sort((a, b) => (a.eventDataId < b.eventDataId ? 1 : -1));
    // Positions in the input move with it; everything else stays.
    const unplaced = (fs: ReturnType<typeof runCase>["findings"]) =>
      JSON.parse(JSON.stringify(fs, (k, v) => (k === "index" ? undefined : v)));
    expect(unplaced(runCase(runCommand, shuffled).findings)).toEqual(unplaced(runCase(runCommand, records).findings));
  });
  it("attempts that all failed are a finding of their own; a success among them makes it a success", () => {
    const failed = runCase(runCommand, [...call(1, { outcome: "Failed" }), ...call(2, { outcome: "Failed" })]).findings;
    expect(failed).toHaveLength(1);
    expect(failed[0]?.title).toMatch(/\(attempt failed\)$/);
    expect(evidenceOf(failed[0], "activity").occurrences).toBe(2);
    const mixed = runCase(runCommand, [...call(1, { outcome: "Failed" }), ...call(2)]).findings;
    expect(mixed).toHaveLength(1);
    expect(evidenceOf(mixed[0], "activity").outcome).toBe("succeeded");
    expect(mixed[0]?.id).not.toBe(failed[0]?.id);
  });
});

describe("bounds", () => {
  it("distinct findings past the limit are counted and reported, not kept", () => {
    const records = Array.from({ length: 12 }, (_, i) => call(i, { vm: `vm${i}` })).flat();
    const { findings, pipeline } = runCase(runCommand, records, { findings: 5 });
    expect(findings).toHaveLength(5);
    const d = pipeline.engine.diagnostics.list().find((x) => x.code === DIAGNOSTIC_CODES.findingsBound);
    expect(d?.message).toMatch(/limit of 5 distinct findings; 14 matches of 1 rule\(s\)/);
  });
  it("a first-seen baseline past its limit says so, and does not flag keys it did not keep", () => {
    // Eight days of one identity from one range, then a new range: flagged with room, quiet without.
    const history = Array.from({ length: 8 }, (_, d) => call(d, { day: d })).flat();
    const fromNew = call(99, { day: 9 }).map((r) => ({ ...r, httpRequest: { clientIpAddress: "198.51.100.7" } }));
    expect(runCase(newIp, [...history, ...fromNew]).findings).toHaveLength(1);
    const tight = runCase(newIp, [...history, ...fromNew], { baselineKeys: 1 });
    expect(tight.findings).toEqual([]);
    const d = tight.pipeline.engine.diagnostics.list().find((x) => x.code === DIAGNOSTIC_CODES.baselineBound);
    expect(d?.message).toMatch(/principal\.id \+ callerIpPrefix held its limit of 1 keys/);
  });
});
