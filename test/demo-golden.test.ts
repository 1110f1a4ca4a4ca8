/**
 * The demo tenant's findings, pinned: ids, rules, titles, severities, resources, principals,
 * times and techniques. A change that alters what the scanner finds on the demo must update
 * test/fixtures/demo-findings.json on purpose (UPDATE_GOLDEN=1 npx vitest run test/demo-golden.test.ts)
 * and say why in its commit.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FilesCollector } from "../src/collectors/files/index.js";
import { DEMO_TENANT_DIR } from "../src/paths.js";
import { runScan } from "../src/scan/run.js";

const GOLDEN = join(import.meta.dirname, "fixtures/demo-findings.json");

describe("demo findings", () => {
  it("are the pinned ones", async () => {
    const { result } = await runScan({ collectors: [new FilesCollector([DEMO_TENANT_DIR])] });
    const got = result.findings.map((f) => ({
      id: f.id,
      ruleId: f.ruleId,
      title: f.title,
      severity: f.severity,
      resourceId: f.resourceId,
      principal: f.principal.id ?? f.principal.name,
      time: f.time,
      techniques: f.attack.techniques,
      evidence: f.evidence.kind,
      records: f.evidence.records.map((r) => r.id),
    }));
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(GOLDEN, "utf8")));
  });
});
