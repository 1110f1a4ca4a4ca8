/**
 * A files or demo scan never loads the Azure SDK: @azure/identity and the SDK clients cost about
 * 45 MB of memory and most of the start-up, and only a live scan needs them (src/cli/live-flags.ts).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../src/paths.js";

/** Module URLs resolved while `script` runs, recorded by a resolve hook (node:module registerHooks). */
function loaded(script: string): string[] {
  const main = pathToFileURL(join(PACKAGE_ROOT, "dist/cli/main.js")).href;
  const code = `
    import { registerHooks } from "node:module";
    const seen = [];
    registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
    const { main } = await import(${JSON.stringify(main)});
    ${script}
    process.stderr.write("\\n" + JSON.stringify(seen));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stderr.trim().split("\n").at(-1) ?? "[]") as string[];
}

describe("start-up", () => {
  it("building the command line loads no Azure SDK package", () => {
    const urls = loaded("");
    expect(urls.some((u) => u.includes("/dist/cli/main.js"))).toBe(true);
    expect(urls.filter((u) => u.includes("/@azure/"))).toEqual([]);
  });
  it("a demo scan loads none either; a live scan loads them", () => {
    const demo = loaded(
      `await main(["scan", "--no-state", "--demo", "--format", "json", "--output", "/dev/null"], { stdout() {}, stderr() {}, isTTY: false });`,
    );
    expect(demo.some((u) => u.includes("/dist/scan/run.js"))).toBe(true);
    expect(demo.filter((u) => u.includes("/@azure/"))).toEqual([]);
    // --since in the future is refused after the live module is loaded, before any request.
    const live = loaded(
      `await main(["scan", "--no-state", "--subscription", "00000000-0000-0000-0000-000000000001", "--since", "2999-01-01T00:00:00Z"], { stdout() {}, stderr() {}, isTTY: false });`,
    );
    expect(live.some((u) => u.includes("/@azure/identity/"))).toBe(true);
  });
});
