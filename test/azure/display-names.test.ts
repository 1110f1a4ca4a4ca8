/**
 * The display-name table (data/operation-display-names.json): every execution-catalogue operation
 * has a display name from a named source or is listed with the reason none was found; names map
 * back case-insensitively and whatever their white space; a name no source gives stays unresolved.
 */
import { describe, expect, it } from "vitest";
import { EXECUTION_CATALOGUE } from "../../src/azure/catalog/execution-operations.js";
import {
  displayNameTable,
  knownDisplayNames,
  operationForDisplayName,
} from "../../src/azure/catalog/localized-operations.js";
import { classify } from "../../src/azure/normalize/index.js";

const table = displayNameTable();

describe("display-name table", () => {
  it("covers every execution-catalogue operation, or says why not", () => {
    const named = new Set(table.entries.map((e) => e.operation.toLowerCase()));
    const explained = new Map(table.notFound.map((n) => [n.operation.toLowerCase(), n.reason]));
    for (const { operation } of EXECUTION_CATALOGUE) {
      const key = operation.toLowerCase();
      const state = named.has(key) ? "named" : explained.has(key) ? "explained" : "missing";
      expect({ operation, state }).not.toEqual({ operation, state: "missing" });
      if (state === "explained") expect(explained.get(key)?.length ?? 0).toBeGreaterThan(40);
    }
    // Nothing is both named and listed as not found.
    for (const n of table.notFound) expect(named.has(n.operation.toLowerCase())).toBe(false);
  });

  it("cites a known source for every entry, with repository, path and full commit", () => {
    for (const [id, s] of Object.entries(table.sources)) {
      expect({ id, commit: /^[0-9a-f]{40}$/.test(s.commit) }).toEqual({ id, commit: true });
      expect(s.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(s.path.length).toBeGreaterThan(0);
    }
    for (const e of table.entries) {
      expect(e.sources.length).toBeGreaterThan(0);
      for (const s of e.sources) expect(Object.keys(table.sources)).toContain(s);
    }
  });

  it("gives each display name one operation", () => {
    const seen = new Map<string, string>();
    for (const e of table.entries) {
      const k = e.display.toLowerCase();
      expect(seen.get(k) ?? e.operation).toBe(e.operation);
      seen.set(k, e.operation);
    }
  });

  it("maps every known display name back, in any case and white space", () => {
    for (const e of table.entries) {
      expect(operationForDisplayName(e.display)?.toLowerCase()).toBe(e.operation.toLowerCase());
      expect(operationForDisplayName(`  ${e.display.toUpperCase().replace(/ /g, "  \t")} `)?.toLowerCase()).toBe(
        e.operation.toLowerCase(),
      );
    }
    expect(knownDisplayNames().length).toBe(table.entries.length);
    expect(operationForDisplayName("Run Command on Virtual Machine")).toBe(
      "Microsoft.Compute/virtualMachines/runCommand/action",
    );
  });

  it("reads an AzureActivity row with a display name in odd case and spacing; an unlisted one stays unresolved", () => {
    const row = (OperationName: string) => ({
      Type: "AzureActivity",
      TimeGenerated: "2019-05-01T15:20:04.8336028Z",
      OperationName,
    });
    const ok = classify(row("create OR update  extension for Virtual Machine in Virtual Machine Scale Set"), {
      location: "t",
    });
    expect("records" in ok && ok.records[0]?.kind === "activity" && ok.records[0].operation).toBe(
      "microsoft.compute/virtualmachinescalesets/virtualmachines/extensions/write",
    );
    const role = classify(row("Create role assignment"), { location: "t" });
    expect("records" in role && role.records[0]?.kind === "activity" && role.records[0].operationName).toBe(
      "Microsoft.Authorization/roleAssignments/write",
    );
    const none = classify(row("Update web sites config"), { location: "t" });
    expect("records" in none).toBe(false);
    expect(JSON.stringify(none)).toMatch(/not resolvable/);
  });
});
