/** Locations inside the installed package (works from src/ under vitest and from dist/). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUILTIN_RULES_DIR = join(PACKAGE_ROOT, "detections");
export const DEMO_TENANT_DIR = join(PACKAGE_ROOT, "demo", "tenant");

let version: string | undefined;
export function toolVersion(): string {
  if (!version) {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version?: string };
    version = pkg.version ?? "0.0.0";
  }
  return version;
}

/**
 * The built (dist/) URL of a module: worker threads run plain Node, so code running from the
 * TypeScript sources (under vitest) hands them the compiled file instead.
 */
export function builtModule(url: string): URL {
  const u = new URL(url);
  if (!u.pathname.endsWith(".ts")) return u;
  const rel = u.pathname.slice(new URL("src/", `file://${PACKAGE_ROOT}/`).pathname.length).replace(/\.ts$/, ".js");
  return new URL(`dist/${rel}`, `file://${PACKAGE_ROOT}/`);
}
