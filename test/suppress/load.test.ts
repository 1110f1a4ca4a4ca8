/** Suppression files: the two layouts, and every mistake as one sentence naming file, line, entry and key. */
import { afterAll, describe, expect, it } from "vitest";
import { loadSuppressionFile } from "../../src/suppress/index.js";
import { UsageError } from "../../src/util/errors.js";
import { tempDir } from "../helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let n = 0;
function load(text: string) {
  const file = tmp.write(`s${++n}.yaml`, text);
  return { file, entries: () => loadSuppressionFile(file, "suppressions.yaml") };
}

function errorOf(text: string): string {
  try {
    load(text).entries();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("loadSuppressionFile", () => {
  it("reads a mapping with suppressions: and names each entry by file and line", () => {
    const entries = load(
      [
        "# accepted exceptions",
        "suppressions:",
        "  - rule: 2c2714bf-*",
        "    resource: /subscriptions/*/resourceGroups/rg-ci/*",
        "    reason: CI grants itself a role during bootstrap",
        "    expires: 2027-03-31",
        "  - title: New App Service*",
        "    principal: ci-deployer",
        "    subscription: 8b1811f6-5813-475a-8054-5d2939bd681f",
        "    reason: daily deployments",
        "    expires: 2027-01-01T00:00:00Z",
      ].join("\n"),
    ).entries();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ rule: "2c2714bf-*", expires: "2027-03-31", entry: "suppressions.yaml:3" });
    expect(entries[1]).toMatchObject({
      title: "New App Service*",
      principal: "ci-deployer",
      entry: "suppressions.yaml:7",
    });
    expect(entries[1]?.location).toEqual({ file: "suppressions.yaml", line: 7 });
  });
  it("reads a bare list; an empty file is no entries", () => {
    expect(load("- rule: x\n  reason: r\n  expires: 2027-01-01\n").entries()).toHaveLength(1);
    expect(load("").entries()).toEqual([]);
  });
  it("a missing reason or expires names the file, the entry's line, the entry and the key", () => {
    const text = [
      "suppressions:",
      "  - rule: a",
      "    reason: r",
      "    expires: 2027-01-01",
      "  - rule: b",
      "    expires: 2027-01-01",
    ];
    expect(errorOf(text.join("\n"))).toBe(
      "suppressions.yaml:5: suppressions[1].reason is required (every suppression needs a reason and an expires date)",
    );
    expect(errorOf("- rule: a\n  reason: r\n")).toBe(
      "suppressions.yaml:1: suppressions[0].expires is required (every suppression needs a reason and an expires date)",
    );
  });
  it("other mistakes are one sentence too", () => {
    expect(errorOf("- rule: a\n  reason: r\n  expires: soon\n")).toBe(
      "suppressions.yaml:3: suppressions[0].expires must be a date (YYYY-MM-DD) or an ISO date-time with a time zone (got 'soon')",
    );
    expect(errorOf("- rule: a\n  reason: r\n  expires: 2027-02-30\n")).toContain("(got '2027-02-30')");
    expect(errorOf("- resource: /subscriptions/*\n  reason: r\n  expires: 2027-01-01\n")).toBe(
      "suppressions.yaml:1: suppressions[0] needs 'rule' (a rule id or a glob of rule ids) or 'title' (a glob of rule titles)",
    );
    expect(errorOf("- rule: a\n  reason: r\n  expires: 2027-01-01\n  resourceId: x\n")).toBe(
      "suppressions.yaml:4: suppressions[0] has an unknown key 'resourceId' (allowed: rule, title, subscription, resource, principal, reason, expires)",
    );
    expect(errorOf("- rule: a\n  reason: ''\n  expires: 2027-01-01\n")).toBe(
      "suppressions.yaml:2: suppressions[0].reason must not be empty",
    );
    expect(errorOf("suppressions: 3\n")).toBe("suppressions.yaml:1: suppressions must be a list (got 3)");
    expect(errorOf("- rule: [a\n")).toMatch(/^suppressions\.yaml:\d+: not valid YAML \(/);
  });
  it("a missing file is a usage error naming it", () => {
    expect(() => loadSuppressionFile(`${tmp.dir}/nope.yaml`)).toThrow(/suppression file .*nope\.yaml does not exist/);
  });
});
