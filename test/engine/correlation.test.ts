/** Sigma correlation types, aliases and chaining, run through the engine as a scan runs them. */
import { afterAll, describe, expect, it } from "vitest";
import { loadRules } from "../../src/rules/loader.js";
import { runCase, testableFor } from "../../src/rules/tester.js";
import { evidenceOf, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const base = (name: string, op: string) => `---
title: ${name}
name: ${name}
logsource: { product: azure, service: activitylogs }
detection:
  s:
    operationName: ${op}
  condition: s
`;

async function correlation(yaml: string) {
  const dir = tmp.write(`c-${Math.random().toString(36).slice(2)}/rule.yml`, yaml).replace(/\/rule\.yml$/, "");
  const loaded = await loadRules([dir]);
  expect(loaded.errors.map((e) => e.message)).toEqual([]);
  const top = loaded.correlations.find((c) => c.title === "top") ?? loaded.correlations[0];
  if (!top) throw new Error("no correlation");
  return (records: unknown[]) => runCase(testableFor(top, loaded), records).findings;
}

const ev = (t: string, op: string, oid: string, res = "vm1", ip = "192.0.2.1") => ({
  time: `2026-11-19T${t}:00Z`,
  operationName: op,
  resourceId: `/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/${res}`,
  category: "Administrative",
  resultType: "Success",
  callerIpAddress: ip,
  correlationId: `${t}-${op}-${res}`,
  identity: { claims: { "http://schemas.microsoft.com/identity/claims/objectidentifier": oid } },
});

const head = (type: string, extra: string) => `title: top
id: 22222222-2222-4222-8222-222222222222
level: high
tags: [attack.execution, attack.t1651]
correlation:
  type: ${type}
${extra}`;

describe("event_count", async () => {
  const run = await correlation(
    `${head("event_count", "  rules: [restart]\n  group-by: [principal.id]\n  timespan: 10m\n  condition: { gte: 3 }\n")}${base("restart", "a/restart/action")}`,
  );
  it("fires once per burst, per group", () => {
    const burst = ["02:00", "02:04", "02:08"].map((t) => ev(t, "A/RESTART/ACTION", "u1"));
    expect(run(burst)).toHaveLength(1);
    expect(run([...burst, ...["05:00", "05:01", "05:02"].map((t) => ev(t, "A/RESTART/ACTION", "u1"))])).toHaveLength(2);
    expect(run(["02:00", "02:04", "02:08"].map((t, i) => ev(t, "A/RESTART/ACTION", `u${i}`)))).toHaveLength(0);
    expect(run(["02:00", "02:06", "02:12"].map((t) => ev(t, "A/RESTART/ACTION", "u1")))).toHaveLength(0);
  });
  it("reads input in any order", () => {
    const burst = ["02:08", "02:00", "02:04"].map((t) => ev(t, "A/RESTART/ACTION", "u1"));
    expect(run(burst)).toHaveLength(1);
  });
});

describe("temporal", async () => {
  const run = await correlation(
    `${head("temporal", "  rules: [one, two]\n  group-by: [principal.id]\n  timespan: 30m\n")}${base("one", "a/one/write")}${base("two", "a/two/write")}`,
  );
  it("needs every rule, in any order, inside the timespan", () => {
    expect(run([ev("02:20", "A/TWO/WRITE", "u1"), ev("02:00", "A/ONE/WRITE", "u1")])).toHaveLength(1);
    expect(run([ev("02:00", "A/ONE/WRITE", "u1"), ev("02:40", "A/TWO/WRITE", "u1")])).toHaveLength(0);
    expect(run([ev("02:00", "A/ONE/WRITE", "u1"), ev("02:10", "A/ONE/WRITE", "u1")])).toHaveLength(0);
  });
});

describe("temporal_ordered with aliases, and a chained correlation", async () => {
  const run = await correlation(
    `${head(
      "temporal_ordered",
      "  rules: [grant, use]\n  group-by: [who]\n  timespan: 1h\n  aliases:\n    who:\n      grant: callerIpAddress\n      use: principal.id\n",
    )}${base("grant", "a/grant/write")}${base("use", "a/use/action")}`,
  );
  it("joins different fields of different rules through an alias, in order", () => {
    // The grant names its grantee in callerIpAddress here, only to exercise the alias.
    expect(run([ev("02:00", "A/GRANT/WRITE", "admin", "vm1", "u9"), ev("02:10", "A/USE/ACTION", "u9")])).toHaveLength(
      1,
    );
    expect(run([ev("02:10", "A/GRANT/WRITE", "admin", "vm1", "u9"), ev("02:00", "A/USE/ACTION", "u9")])).toHaveLength(
      0,
    );
    expect(run([ev("02:00", "A/GRANT/WRITE", "admin", "vm1", "u9"), ev("02:10", "A/USE/ACTION", "u8")])).toHaveLength(
      0,
    );
  });
  it("lists the steps, one per operation, with their records", () => {
    const [f] = run([ev("02:00", "A/GRANT/WRITE", "admin", "vm1", "u9"), ev("02:10", "A/USE/ACTION", "u9")]);
    const steps = evidenceOf(f, "chain").steps as { rule: string; time: string }[];
    expect(steps.map((s) => s.rule)).toEqual(["grant", "use"]);
    expect(f?.evidence.records).toHaveLength(2);
    expect(f?.principal.id).toBe("u9");
  });
  it("chains: a correlation over the results of another", async () => {
    const chained = await correlation(`title: top
id: 33333333-3333-4333-8333-333333333333
level: critical
tags: [attack.execution, attack.t1651]
correlation:
  type: event_count
  rules: [bursts]
  group-by: [principal.id]
  timespan: 6h
  condition: { gte: 2 }
---
title: bursts
name: bursts
correlation:
  type: event_count
  rules: [restart]
  group-by: [principal.id]
  timespan: 10m
  condition: { gte: 2 }
${base("restart", "a/restart/action")}`);
    const two = (h: string) => [ev(`${h}:00`, "A/RESTART/ACTION", "u1"), ev(`${h}:05`, "A/RESTART/ACTION", "u1")];
    expect(chained([...two("01"), ...two("03")])).toHaveLength(1);
    expect(chained(two("01"))).toHaveLength(0);
  });
});

describe("temporal_ordered with steps: notable", async () => {
  const dir = tmp.write(
    "notable/chain.yml",
    `${head(
      "temporal_ordered",
      "  rules: [grant, use]\n  group-by: [who]\n  timespan: 24h\n  aliases:\n    who:\n      grant: callerIpAddress\n      use: principal.id\n",
    )}steps:\n  keep: notable\n  new-for: [principal.id, operationName]\n${base("grant", "a/grant/write")}${base("use", "a/*/action")}`,
  );
  tmp.write(
    "notable/alert.yml",
    `title: odd use\nid: 66666666-6666-4666-8666-666666666666\nlevel: medium\ntags: [attack.execution, attack.t1651]\nlogsource: { product: azure, service: activitylogs }\ndetection:\n  s:\n    operationName: a/odd/action\n  condition: s\n`,
  );
  const loaded = await loadRules([dir.replace(/\/chain\.yml$/, "")]);
  const top = loaded.correlations[0] as NonNullable<(typeof loaded.correlations)[0]>;
  const alert = loaded.rules.find((r) => r.title === "odd use");
  const run = (records: unknown[], withAlert = false) => {
    const t = testableFor(top, loaded);
    if (withAlert && alert) t.rules.push(alert);
    return runCase(t, records).findings.filter((f) => f.evidence.kind === "chain");
  };
  const stepOps = (f: unknown) =>
    (evidenceOf(f as Parameters<typeof evidenceOf>[0], "chain").steps as { operation: string }[]).map((s) =>
      s.operation.toLowerCase(),
    );
  // u9's routine: a/deploy/action every day before the grant.
  const routine = [ev("01:00", "A/DEPLOY/ACTION", "u9", "app"), ev("01:30", "A/ODD/ACTION", "u9", "vm7")];
  const grant = ev("02:00", "A/GRANT/WRITE", "admin", "vm1", "u9");
  it("keeps what is new for the identity and leaves its routine work out", () => {
    const [f, more] = run([
      ...routine,
      grant,
      ev("02:10", "A/RUN/ACTION", "u9"),
      ev("03:00", "A/DEPLOY/ACTION", "u9", "app"),
      ev("04:00", "A/RUN/ACTION", "u9", "vm2"),
    ]);
    expect(more).toBeUndefined();
    // The second run command is the same operation, but it was first done after the grant.
    expect(stepOps(f)).toEqual(["a/grant/write", "a/run/action", "a/run/action"]);
  });
  it("keeps a routine operation that raised a finding of its own", () => {
    const records = [...routine, grant, ev("02:10", "A/RUN/ACTION", "u9"), ev("03:00", "A/ODD/ACTION", "u9", "vm3")];
    expect(stepOps(run(records)[0])).toEqual(["a/grant/write", "a/run/action"]);
    expect(stepOps(run(records, true)[0])).toEqual(["a/grant/write", "a/run/action", "a/odd/action"]);
  });
  it("is no chain when the grant is followed only by routine work", () => {
    expect(run([...routine, grant, ev("03:00", "A/DEPLOY/ACTION", "u9", "app")])).toHaveLength(0);
    // Without history before the grant nothing can be called routine.
    expect(run([grant, ev("03:00", "A/DEPLOY/ACTION", "u9", "app")])).toHaveLength(1);
  });
  it("is refused on other correlation types", async () => {
    const bad = tmp
      .write(
        "notable-bad/a.yml",
        `${head("event_count", "  rules: [r]\n  group-by: [principal.id]\n  timespan: 1h\n  condition: { gte: 2 }\n")}steps:\n  keep: notable\n  new-for: [principal.id]\n${base("r", "a/r/action")}`,
      )
      .replace(/\/a\.yml$/, "");
    const l = await loadRules([bad]);
    expect(l.errors.map((e) => e.message).join("\n")).toMatch(/'steps' applies to temporal_ordered correlations only/);
    const odd = tmp
      .write(
        "notable-bad2/a.yml",
        `${head("temporal_ordered", "  rules: [r, q]\n  group-by: [principal.id]\n  timespan: 1h\n")}steps:\n  keep: notable\n  new-for: [principal.id]\n  learning: 3d\n${base("r", "a/r/action")}${base("q", "a/q/action")}`,
      )
      .replace(/\/a\.yml$/, "");
    const l2 = await loadRules([odd]);
    expect(l2.errors.map((e) => e.message).join("\n")).toMatch(/'steps.learning' applies with 'first: new'/);
  });
});

describe("loading", () => {
  it("reports references to unknown rules and reference cycles", async () => {
    const dir = tmp
      .write("bad/a.yml", `${head("temporal", "  rules: [nope]\n  group-by: [x]\n  timespan: 1h\n")}`)
      .replace(/\/a\.yml$/, "");
    tmp.write(
      "bad/b.yml",
      `title: b1\nid: 44444444-4444-4444-8444-444444444444\nname: b1\ncorrelation:\n  type: temporal\n  rules: [b2]\n  group-by: [x]\n  timespan: 1h\n---\ntitle: b2\nid: 55555555-5555-4555-8555-555555555555\nname: b2\ncorrelation:\n  type: temporal\n  rules: [b1]\n  group-by: [x]\n  timespan: 1h\n`,
    );
    const loaded = await loadRules([dir]);
    const messages = loaded.errors.map((e) => e.message).join("\n");
    expect(messages).toMatch(/a\.yml:1: correlation references 'nope'/);
    expect(messages).toMatch(/b\.yml:\d+: correlation is part of a reference cycle/);
    expect(loaded.correlations).toHaveLength(0);
  });
});
