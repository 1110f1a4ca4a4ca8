/**
 * Paths resolve the same however they are written (`./x`, `x`, absolute, `~/x`), in every
 * command: each case runs the bin in a working directory with the user's exact form (no shell, so
 * `~` reaches the tool unexpanded, as it does quoted or after `--flag=`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const cwd = tmp.dir;
const env = { HOME: cwd };
const cli = (...args: string[]) => runCli(args, env, 60_000, cwd);

const VM = "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1";
const event = (op: string, i: number) =>
  JSON.stringify({
    time: `2026-11-0${1 + i}T09:00:00Z`,
    resourceId: VM,
    operationName: op,
    category: "Administrative",
    resultType: "Start",
    correlationId: `c${i}`,
  });
tmp.write(
  "in/activity.jsonl",
  [
    event("MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION", 0),
    event("MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION", 1),
  ].join("\n"),
);

const rule = (id: string, extra = "") => `title: Start by anyone
id: ${id}
status: experimental
description: a user rule
tags: [attack.execution, attack.t1651]
falsepositives: [none]
level: low
logsource: { product: azure, service: activitylogs }
detection:
  s:
    operationName${extra}: Microsoft.Compute/virtualMachines/start/action
  condition: s
`;
const tests = `match:
  - name: start
    records:
      - { time: "2026-11-02T10:00:00Z", operationName: MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION, resourceId: ${VM}, category: Administrative, resultType: Start }
nomatch:
  - name: restart
    records:
      - { time: "2026-11-02T10:00:00Z", operationName: MICROSOFT.COMPUTE/VIRTUALMACHINES/RESTART/ACTION, resourceId: ${VM}, category: Administrative, resultType: Start }
`;
const USER_ID = "77777777-7777-4777-8777-777777777777";
tmp.write("my-rules/start.yml", rule(USER_ID));
tmp.write("my-rules/start.tests.yml", tests);
// Everything issue 11 listed: bad YAML, an unknown modifier, a refused technique id, a duplicate id, no tests file.
tmp.write("bad-rules/broken.yml", "title: [unclosed\n");
tmp.write("bad-rules/modifier.yml", rule("88888888-8888-4888-8888-888888888881", "|sounds_like"));
tmp.write("bad-rules/modifier.tests.yml", tests);
tmp.write(
  "bad-rules/technique.yml",
  rule("88888888-8888-4888-8888-888888888882").replace("attack.t1651", "attack.t1204.004"),
);
tmp.write("bad-rules/technique.tests.yml", tests);
tmp.write("bad-rules/dup-a.yml", rule("88888888-8888-4888-8888-888888888883"));
tmp.write("bad-rules/dup-a.tests.yml", tests);
tmp.write("bad-rules/dup-b.yml", rule("88888888-8888-4888-8888-888888888883"));
tmp.write("bad-rules/dup-b.tests.yml", tests);
tmp.write("bad-rules/untested.yml", rule("88888888-8888-4888-8888-888888888884"));

describe("rules lint fails on a broken directory however it is named", () => {
  it.each([["./bad-rules"], ["bad-rules"], ["bad-rules/"], [join(cwd, "bad-rules")], ["~/bad-rules"]])(
    "%s",
    async (dir) => {
      const r = await cli("rules", "lint", dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/broken\.yml/);
      expect(r.stdout).toMatch(/sounds_like/);
      expect(r.stdout).toMatch(/T1204\.004 is Malicious Copy and Paste/);
      expect(r.stdout).toMatch(/id 88888888-8888-4888-8888-888888888883 is already used/);
      expect(r.stdout).toMatch(/has no tests file/);
      expect(r.stderr).toMatch(/^azure-exec-audit: rules lint found \d+ problem\(s\) in \d+ rules\n$/);
    },
  );
});

describe("every command takes ./x", () => {
  it("rules list ./my-rules and rules test ./my-rules", async () => {
    const list = await cli("rules", "list", "./my-rules", "--format", "json");
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((r) => r.id)).toEqual([USER_ID]);
    const test = await cli("rules", "test", "./my-rules");
    expect(test.code).toBe(0);
    expect(test.stdout).toContain("2 passed, 0 failed");
    const lint = await cli("rules", "lint", "./my-rules");
    expect(lint.code).toBe(0);
  });

  it("scan --input ./in --rules ./my-rules --output ./out/report.json", async () => {
    const r = await cli(
      "scan",
      "--no-state",
      "--input",
      "./in",
      "--rules",
      "./my-rules",
      "--output",
      "./out/report.json",
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(cwd, "out/report.json"), "utf8"));
    expect(report.scan.coverage[0]).toMatchObject({ scope: "./in", status: "complete", records: 2 });
    expect(report.findings.map((f: { ruleId: string }) => f.ruleId)).toContain(USER_ID);
  });

  it("scan --input=~/in --output json=~/out/home.json (no shell to expand ~)", async () => {
    const r = await cli("scan", "--no-state", "--input=~/in", "--output", "json=~/out/home.json");
    expect(r.code).toBe(0);
    expect(existsSync(join(cwd, "out/home.json"))).toBe(true);
  });

  it("scan --suppressions ./s.yaml --baseline ./b.json", async () => {
    tmp.write("s.yaml", "- rule: '*'\n  reason: test\n  expires: 2099-01-01\n");
    await cli("scan", "--no-state", "--input", "./in", "--output", "./b.json");
    const r = await cli(
      "scan",
      "--no-state",
      "--input",
      "./in",
      "--suppressions",
      "./s.yaml",
      "--baseline",
      "./b.json",
      "--fail-on",
      "low",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("scan --config ./c.yaml; init --config ./init.yaml", async () => {
    tmp.write("c.yaml", "sources:\n  inputs: [./in]\nstate: false\noutput:\n  format: JSON\n");
    const r = await cli("scan", "--config", "./c.yaml");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).scan.coverage).toHaveLength(1);
    const init = await cli("init", "--config", "./init.yaml");
    expect(init.code).toBe(0);
    expect(existsSync(join(cwd, "init.yaml"))).toBe(true);
  });

  it("scan --state ./st/state.db; findings list|diff and state prune --state ./st/state.db", async () => {
    expect((await cli("scan", "--input", "./in", "--state", "./st/state.db", "--format", "json")).code).toBe(0);
    expect((await cli("scan", "--input", "./in", "--state", "~/st/state.db", "--format", "json")).code).toBe(0);
    const list = await cli("findings", "list", "--state", "./st/state.db", "--format", "json");
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).findings.length).toBeGreaterThan(0);
    expect((await cli("findings", "diff", "--state", "./st/state.db")).code).toBe(0);
    expect((await cli("state", "prune", "--state", "./st/state.db", "--dry-run")).code).toBe(0);
  });
});
