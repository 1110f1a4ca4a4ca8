// `npm install`'s prepare step: builds dist/ from src/ when both the sources and the TypeScript
// compiler are there (a clone with dev dependencies). A runtime install (`npm ci --omit=dev`, with
// dist/ already built or shipped in the package) has no compiler and needs no build: it keeps
// dist/ as it is, and says so in one line when dist/ is missing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// The compiler as npm links it (the package's exports do not name its bin file).
const tsc = "node_modules/typescript/bin/tsc";
if (existsSync("src") && existsSync(tsc)) {
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
if (!existsSync("dist/cli/run.js"))
  console.error(
    "azure-exec-audit: dist/ is not built and cannot be here (no TypeScript compiler: dev dependencies omitted); build it where they are installed (npm run build) and copy dist/ in",
  );
