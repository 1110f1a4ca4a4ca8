/** Suppression matching and expiry on a hand-made result (the pure function the CLI calls). */
import { describe, expect, it } from "vitest";
import type { Finding, ScanResult } from "../../src/model/finding.js";
import { applySuppressions, type SuppressionEntry } from "../../src/suppress/index.js";

const SUB_A = "8b1811f6-5813-475a-8054-5d2939bd681f";
const SUB_B = "11111111-2222-4333-8444-555555555555";
const VM = `/subscriptions/${SUB_A}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01`;
const SITE = `/subscriptions/${SUB_B}/resourceGroups/rg-web/providers/Microsoft.Web/sites/func-sync`;
const NOW = new Date("2026-12-01T12:00:00Z");

function finding(
  id: string,
  ruleId: string,
  resourceId: string,
  principal: Finding["principal"],
  extra: Partial<Finding> = {},
): Finding {
  return {
    id,
    ruleId,
    title: `Title of ${ruleId}`,
    severity: "high",
    attack: { tactics: ["execution"], techniques: ["T1651"] },
    resourceId,
    principal,
    time: "2026-11-19T02:04:11Z",
    evidence: { kind: "configuration", records: [] },
    ...extra,
  };
}

const findings: Finding[] = [
  finding("f1", "d0022f8a-148a-4c1e-9d0e-5b1c2a3d4e5f", VM, { id: "a442edc7-37ba-4cef-a407-f093bfc1c697" }),
  finding(
    "f2",
    "f4339963-38d0-4e1f-8a2b-3c4d5e6f7a8b",
    SITE,
    { id: "0000aaaa-0000-0000-0000-000000000001", name: "ci-deployer", appId: "9f1c0000-0000-0000-0000-00000000abcd" },
    { subscriptionId: SUB_B },
  ),
  finding("f3", "d0022f8a-148a-4c1e-9d0e-5b1c2a3d4e5f", SITE, {
    id: "0000aaaa-0000-0000-0000-000000000002",
    name: "alice@contoso.com",
  }),
];

function result(): ScanResult {
  return {
    id: "scan",
    startedAt: "2026-12-01T12:00:00Z",
    finishedAt: "2026-12-01T12:00:01Z",
    complete: true,
    coverage: [],
    findings: findings.map((f) => ({ ...f })),
    rules: [],
    diagnostics: [],
  };
}

let line = 0;
function entry(e: Partial<SuppressionEntry>): SuppressionEntry {
  line += 10;
  return {
    reason: "accepted",
    expires: "2027-01-01",
    entry: `s.yaml:${line}`,
    location: { file: "s.yaml", line },
    ...e,
  };
}

const suppressedIds = (r: ScanResult) => r.findings.filter((f) => f.status === "suppressed").map((f) => f.id);

describe("applySuppressions: matching", () => {
  it("by rule id (any case)", () => {
    const r = applySuppressions(result(), [entry({ rule: "F4339963-38D0-4E1F-8A2B-3C4D5E6F7A8B" })], NOW);
    expect(suppressedIds(r)).toEqual(["f2"]);
  });
  it("by a glob of rule ids", () => {
    expect(suppressedIds(applySuppressions(result(), [entry({ rule: "d0022f8a-*" })], NOW))).toEqual(["f1", "f3"]);
    expect(suppressedIds(applySuppressions(result(), [entry({ rule: "d0022f8?-148a-*" })], NOW))).toEqual(["f1", "f3"]);
    expect(suppressedIds(applySuppressions(result(), [entry({ rule: "d0022f8a" })], NOW))).toEqual([]);
  });
  it("by a glob of rule titles", () => {
    expect(suppressedIds(applySuppressions(result(), [entry({ title: "title of f4339963*" })], NOW))).toEqual(["f2"]);
  });
  it("by subscription: the finding's own, or the one in its resource id", () => {
    expect(suppressedIds(applySuppressions(result(), [entry({ rule: "*", subscription: SUB_B })], NOW))).toEqual([
      "f2",
      "f3",
    ]);
    expect(
      suppressedIds(applySuppressions(result(), [entry({ rule: "*", subscription: SUB_A.toUpperCase() })], NOW)),
    ).toEqual(["f1"]);
  });
  it("by a glob of resource ids (any case)", () => {
    const e = entry({ rule: "d0022f8a-*", resource: "/subscriptions/*/resourcegroups/rg-web/*" });
    expect(suppressedIds(applySuppressions(result(), [e], NOW))).toEqual(["f3"]);
    const exact = entry({ rule: "*", resource: VM.toUpperCase() });
    expect(suppressedIds(applySuppressions(result(), [exact], NOW))).toEqual(["f1"]);
  });
  it("by principal: object id, display name or application id", () => {
    const r = (principal: string) => suppressedIds(applySuppressions(result(), [entry({ rule: "*", principal })], NOW));
    expect(r("a442edc7-37ba-4cef-a407-f093bfc1c697")).toEqual(["f1"]);
    expect(r("CI-Deployer")).toEqual(["f2"]);
    expect(r("9f1c0000-0000-0000-0000-00000000abcd")).toEqual(["f2"]);
    expect(r("*@contoso.com")).toEqual(["f3"]);
    expect(r("bob")).toEqual([]);
  });
  it("every key of an entry must match", () => {
    const e = entry({ rule: "d0022f8a-*", subscription: SUB_A, principal: "alice@contoso.com" });
    expect(suppressedIds(applySuppressions(result(), [e], NOW))).toEqual([]);
  });
  it("marks the finding with the first matching entry and keeps it in the result; the input is not changed", () => {
    const input = result();
    const first = entry({ rule: "f4339963-*", reason: "CI deploys from its CDN", expires: "2027-03-31" });
    const second = entry({ rule: "*" });
    const r = applySuppressions(input, [first, second], NOW);
    expect(r.findings).toHaveLength(3);
    const f2 = r.findings.find((f) => f.id === "f2");
    expect(f2?.status).toBe("suppressed");
    expect(f2?.suppression).toEqual({ reason: "CI deploys from its CDN", expires: "2027-03-31", entry: first.entry });
    expect(r.findings.find((f) => f.id === "f1")?.suppression?.entry).toBe(second.entry);
    expect(input.findings.every((f) => f.status === undefined && f.suppression === undefined)).toBe(true);
  });
  it("leaves a finding already suppressed as it was", () => {
    const input = result();
    const marked = { reason: "earlier", expires: "2027-01-01", entry: "state" };
    input.findings[0] = { ...(input.findings[0] as Finding), status: "suppressed", suppression: marked };
    const r = applySuppressions(input, [entry({ rule: "*" })], NOW);
    expect(r.findings[0]?.suppression).toEqual(marked);
  });
  it("no entries: the same result", () => {
    const input = result();
    expect(applySuppressions(input, [], NOW)).toBe(input);
  });
});

describe("applySuppressions: expiry", () => {
  it("an entry whose expires date has passed does not apply and is reported as expired, naming the entry", () => {
    const old = entry({ rule: "f4339963-*", expires: "2026-11-30" });
    const r = applySuppressions(result(), [old], NOW);
    expect(suppressedIds(r)).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: "suppression/expired", location: old.location });
    expect(r.diagnostics[0]?.message).toContain(old.entry);
    expect(r.diagnostics[0]?.message).toContain("expired on 2026-11-30");
    expect(r.diagnostics[0]?.message).toContain("1 finding it matches is reported");
  });
  it("a date alone expires at the start of that day (UTC); a date-time at that instant", () => {
    const on = (expires: string, now: string) =>
      suppressedIds(applySuppressions(result(), [entry({ rule: "f4339963-*", expires })], new Date(now)));
    expect(on("2026-12-02", "2026-12-01T23:59:59Z")).toEqual(["f2"]);
    expect(on("2026-12-02", "2026-12-02T00:00:00Z")).toEqual([]);
    expect(on("2026-12-01T13:00:00+01:00", "2026-12-01T11:59:59Z")).toEqual(["f2"]);
    expect(on("2026-12-01T13:00:00+01:00", "2026-12-01T12:00:00Z")).toEqual([]);
  });
  it("an unexpired entry that matches nothing is reported as unused", () => {
    const unused = entry({ rule: "no-such-rule" });
    const r = applySuppressions(result(), [unused, entry({ rule: "f4339963-*" })], NOW);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["suppression/unused"]);
    expect(r.diagnostics[0]?.message).toContain(unused.entry);
  });
});
