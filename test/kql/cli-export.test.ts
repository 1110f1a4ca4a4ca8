/** `rules export --target sentinel` as a user runs it (in-process main). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { EXIT, main } from "../../src/cli/main.js";
import { tempDir } from "../helpers.js";
import { diagnose } from "./kusto.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false });
  return { code, stdout, stderr };
}

describe("rules export --target sentinel", () => {
  it("writes Azure-Sentinel YAML to stdout and names what it could not export", async () => {
    const r = await run("rules", "export", "--target", "sentinel");
    expect(r.code).toBe(EXIT.ok);
    const docs = parseAllDocuments(r.stdout)
      .map((d) => d.toJS())
      .filter(Boolean);
    expect(docs.length).toBeGreaterThan(50);
    expect(r.stderr).toMatch(/not exported: Role granted that can run code on Azure resources .*role definitions/);
    expect(r.stderr).toMatch(/\d+ analytics rules exported, \d+ rules not expressible in KQL/);
  });

  it("writes an ARM template whose every query passes the Kusto language service", async () => {
    const out = join(tmp.dir, "rules.json");
    const r = await run("rules", "export", "--target", "sentinel", "--format", "arm", "--output", out);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe("");
    const t = JSON.parse(readFileSync(out, "utf8")) as { resources: { properties: { query: string } }[] };
    expect(t.resources.length).toBeGreaterThan(50);
    for (const res of t.resources) expect(diagnose(res.properties.query)).toEqual([]);
  });

  it("a user rule directory is exported the same way; an unknown target is a usage error", async () => {
    const dir = tmp.dir;
    tmp.write(
      "user/mine.yml",
      "title: Mine\nid: 22222222-2222-4222-8222-222222222222\nlevel: high\ntags: [attack.execution, attack.t1651]\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  s:\n    operationName: Microsoft.Compute/virtualMachines/runCommand/action\n  condition: s\n",
    );
    const r = await run("rules", "export", "--target", "sentinel", "--format", "arm", join(dir, "user"));
    expect(r.code).toBe(EXIT.ok);
    const t = JSON.parse(r.stdout) as { resources: { name: string; properties: Record<string, unknown> }[] };
    expect(t.resources.map((x) => x.name)).toEqual(["22222222-2222-4222-8222-222222222222"]);
    expect(t.resources[0]?.properties.techniques).toEqual(["T1651"]);
    expect(t.resources[0]?.properties.tactics).toEqual(["Execution"]);
    const bad = await run("rules", "export", "--target", "splunk");
    expect(bad.code).toBe(EXIT.usage);
  });
});
