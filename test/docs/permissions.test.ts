/**
 * docs/permissions.md and its custom role stay true to what the collectors ask for: the role
 * grants only reads (and the one list action app settings need), every action a failure message
 * names is in the role, and every role a failure message names is on the page.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/paths.js";

const role = JSON.parse(readFileSync(join(PACKAGE_ROOT, "docs/roles/azure-exec-audit-reader.json"), "utf8")) as {
  Actions: string[];
  NotActions: string[];
  DataActions: string[];
};
const page = readFileSync(join(PACKAGE_ROOT, "docs/permissions.md"), "utf8");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}
/** The `role:` texts of the collectors' and the scope's failure explanations. */
const named = sources(join(PACKAGE_ROOT, "src")).flatMap((f) =>
  [...readFileSync(f, "utf8").matchAll(/role: "([^"]+)"/g)].map((m) => m[1] as string),
);

describe("docs/permissions.md", () => {
  it("the custom role only reads, plus listing app settings", () => {
    expect(role.Actions.length).toBeGreaterThan(20);
    for (const a of role.Actions) {
      expect(a).not.toContain("*");
      expect(a.endsWith("/read") || a === "Microsoft.Web/sites/config/list/action").toBe(true);
    }
    expect(role.DataActions).toEqual([]);
  });

  it("holds every action and role the failure messages name", () => {
    expect(named.length).toBeGreaterThan(8);
    for (const text of named) {
      for (const [action] of text.matchAll(/Microsoft\.[A-Za-z]+\/[A-Za-z/*]+/g)) {
        const re = new RegExp(`^${action.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]+")}$`, "i");
        expect(
          role.Actions.some((a) => re.test(a)),
          `${action} (from "${text}") is not in the role`,
        ).toBe(true);
      }
      for (const builtIn of ["Reader", "Website Contributor", "AcrPull", "Container Registry Repository Reader"])
        if (text.includes(builtIn)) expect(page).toContain(builtIn);
    }
    for (const r of ["Log Analytics Reader", "Storage Blob Data Reader"]) expect(page).toContain(r);
  });
});
