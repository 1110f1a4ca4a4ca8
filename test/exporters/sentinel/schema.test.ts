/**
 * The row schema in one place: rows have exactly its columns with its types, docs/sentinel.md
 * lists the same table, column names are legal Log Analytics custom columns, secrets never reach
 * a row, oversized evidence is cut with a marker under 64 KB, and the KQL shipped with the table
 * (the ASIM parser, the queries in docs/sentinel.md) parses and type-checks against it with the
 * official Kusto language service.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EVIDENCE_LIMIT_BYTES,
  evidenceColumn,
  findingRow,
  resolvedRow,
  resourceTypeOf,
  TRUNCATED_KEY,
} from "../../../src/exporters/sentinel/rows.js";
import {
  kqlTableSchema,
  SENTINEL_COLUMNS,
  SENTINEL_STREAM,
  SENTINEL_TABLE,
} from "../../../src/exporters/sentinel/schema.js";
import type { Finding } from "../../../src/model/finding.js";
import { PACKAGE_ROOT } from "../../../src/paths.js";
import { parseYaml } from "../../../src/util/yaml-config.js";
import { analyze } from "./kusto.js";

const scan = { id: "scan-1", finishedAt: "2026-11-19T11:00:00.000Z", toolVersion: "0.1.0", tenantId: "t-1" };
const SECRET = "Sup3rS3cretPassw0rd!";

const finding: Finding = {
  id: "a1b2c3",
  ruleId: "rule-1",
  title: "Custom Script extension with an inline script",
  severity: "critical",
  attack: { tactics: ["execution"], techniques: ["T1651"] },
  subscriptionId: "11111111-2222-3333-4444-555555555555",
  resourceId:
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/cse",
  principal: { id: "oid-1", name: "eve@contoso.example", type: "User" },
  time: "2026-11-19T10:00:00Z",
  status: "new",
  evidence: {
    kind: "activity",
    records: [{ kind: "activity", id: "event-1" }],
    operationName: "Microsoft.Compute/virtualMachines/extensions/write",
    occurrences: 1,
    outcome: "succeeded",
    correlationId: "corr-1",
    callerIpAddress: "203.0.113.7",
    matched: { commandToExecute: `mysql --password=${SECRET} -e 'select 1'`, settings: { password: SECRET } },
  },
};

describe("rows", () => {
  it("have exactly the schema's columns, with its types", () => {
    const row = findingRow(finding, scan) as unknown as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(SENTINEL_COLUMNS.map((c) => c.name));
    for (const c of SENTINEL_COLUMNS) {
      const v = row[c.name];
      if (c.type === "string") expect(typeof v, c.name).toBe("string");
      if (c.type === "datetime") expect(Number.isNaN(Date.parse(v as string)), c.name).toBe(false);
      if (c.type === "dynamic") expect(typeof v, c.name).toBe("object");
    }
    expect(row).toMatchObject({
      FindingId: "a1b2c3",
      ScanId: "scan-1",
      AADTenantId: "t-1",
      ResourceType: "Microsoft.Compute/virtualMachines/extensions",
      Principal: "eve@contoso.example",
      PrincipalType: "User",
      CallerIpAddress: "203.0.113.7",
      CorrelationId: "corr-1",
      OperationName: "Microsoft.Compute/virtualMachines/extensions/write",
      AttackTechniques: ["T1651"],
      Status: "new",
    });
    const resolved = resolvedRow(
      { ...finding, firstSeen: "2026-11-01T00:00:00Z", lastSeen: "2026-11-18T00:00:00Z" },
      { id: "rule-1", title: "t", level: "high", tactics: ["execution"], techniques: ["T1651"] },
      scan,
    ) as unknown as Record<string, unknown>;
    expect(Object.keys(resolved)).toEqual(SENTINEL_COLUMNS.map((c) => c.name));
    expect(resolved).toMatchObject({
      Status: "resolved",
      TimeGenerated: scan.finishedAt,
      AttackTactics: ["execution"],
    });
  });

  it("never carry a secret", () => {
    const text = JSON.stringify(findingRow(finding, scan));
    expect(text).not.toContain(SECRET);
    expect(text).toContain("REDACTED");
  });

  it("cut oversized evidence under the 64 KB field limit, with a marker", () => {
    const big = {
      ...finding.evidence,
      matched: { script: "A".repeat(300_000), lines: Array.from({ length: 5000 }, (_, i) => `line ${i}`) },
    };
    const cut = evidenceColumn(big) as Record<string, unknown>;
    expect(Buffer.byteLength(JSON.stringify(cut))).toBeLessThanOrEqual(EVIDENCE_LIMIT_BYTES);
    expect(cut[TRUNCATED_KEY]).toMatchObject({ limitBytes: EVIDENCE_LIMIT_BYTES });
    expect(cut.kind).toBe("activity");
    expect(JSON.stringify(cut)).toContain("chars]");
    // Multi-byte text and deep nesting also fit.
    let deep: unknown = "é".repeat(100_000);
    for (let i = 0; i < 60; i++) deep = { [`k${i}`]: deep, pad: "ü".repeat(2000) };
    expect(Buffer.byteLength(JSON.stringify(evidenceColumn(deep)))).toBeLessThanOrEqual(EVIDENCE_LIMIT_BYTES);
    // Small evidence is left whole.
    expect(evidenceColumn({ kind: "x", a: 1 })).toEqual({ kind: "x", a: 1 });
  });

  it("name the resource type of any ARM id", () => {
    expect(resourceTypeOf("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app")).toBe(
      "Microsoft.Web/sites",
    );
    expect(
      resourceTypeOf(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/roleAssignments/x",
      ),
    ).toBe("Microsoft.Authorization/roleAssignments");
    expect(resourceTypeOf("/subscriptions/s/resourceGroups/rg")).toBe("Microsoft.Resources/resourceGroups");
    expect(resourceTypeOf("/subscriptions/s")).toBe("Microsoft.Resources/subscriptions");
    expect(resourceTypeOf("contosoprodacr.azurecr.io/miner@sha256:abc")).toBe("");
  });
});

describe("the schema", () => {
  it("uses legal Log Analytics custom column names, none of them reserved", () => {
    // MicrosoftDocs/azure-monitor-docs @08c110a0 articles/azure-monitor/logs/create-custom-table.md.
    const reserved = [
      "id",
      "BilledSize",
      "IsBillable",
      "InvalidTimeGenerated",
      "TenantId",
      "Title",
      "Type",
      "UniqueId",
      "_ItemId",
      "_ResourceGroup",
      "_ResourceId",
      "_SubscriptionId",
      "_TimeReceived",
    ].map((n) => n.toLowerCase());
    for (const c of SENTINEL_COLUMNS) {
      expect(c.name).toMatch(/^[A-Za-z][A-Za-z0-9_]{1,44}$/);
      expect(reserved).not.toContain(c.name.toLowerCase());
    }
    expect(SENTINEL_TABLE).toMatch(/_CL$/);
    expect(SENTINEL_STREAM).toBe(`Custom-${SENTINEL_TABLE}`);
  });

  it("is the table docs/sentinel.md documents, column for column", () => {
    const doc = readFileSync(join(PACKAGE_ROOT, "docs/sentinel.md"), "utf8");
    // Only the section on the table: other sections may have tables of their own.
    const section = doc.slice(doc.indexOf("## The table"), doc.indexOf("\n## ", doc.indexOf("## The table") + 1));
    const rows = [...section.matchAll(/^\| `(\w+)` \| `(\w+)` \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(SENTINEL_COLUMNS.map((c) => [c.name, c.type]));
  });
});

/** The table as a workspace shows it: our columns and the standard Type column. */
const TABLES = { [SENTINEL_TABLE]: `${kqlTableSchema().slice(0, -1)}, Type:string)` };

describe("KQL over the table (Kusto language service)", () => {
  it("the ASIM parser parses and type-checks", () => {
    const file = join(PACKAGE_ROOT, "infra/sentinel/asim/ASimAlertEventAzureExecAudit.yaml");
    const parser = parseYaml(readFileSync(file, "utf8"), file).value as Record<string, unknown>;
    expect(parser.ParserName).toBe("ASimAlertEventAzureExecAudit");
    expect((parser.Normalization as Record<string, unknown>).Schema).toBe("AlertEvent");
    const params = (parser.ParserParams as { Name: string; Type: string; Default: unknown }[])
      .map((p) => `let ${p.Name} = ${String(p.Default)};`)
      .join("\n");
    const query = `${params}\n${parser.ParserQuery as string}`;
    expect(analyze(query, TABLES)).toEqual([]);
    // The check can fail: a column the table does not have is an error.
    expect(analyze(query.replace("_IsUser = PrincipalType", "_IsUser = PrincipalKind"), TABLES).length).toBeGreaterThan(
      0,
    );
  });

  it("every query in docs/sentinel.md over the table does", () => {
    const doc = readFileSync(join(PACKAGE_ROOT, "docs/sentinel.md"), "utf8");
    const blocks = [...doc.matchAll(/```kusto\n([\s\S]*?)```/g)]
      .map((m) => m[1] as string)
      .filter((q) => q.includes(SENTINEL_TABLE) && !q.includes("AzureActivity"));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const q of blocks) expect(analyze(q, TABLES), q).toEqual([]);
  });
});
