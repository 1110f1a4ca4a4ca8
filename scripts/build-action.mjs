#!/usr/bin/env node
/**
 * Bundles the GitHub Action (src/action/main.ts) and everything it loads into dist-action/,
 * which is committed: a runner runs action.yml's `main` from the checked-out repository with no
 * npm install. `.ci/run` rebuilds into a temporary directory and fails when the committed bundle
 * differs, so the build must be deterministic: no source maps (they would hold absolute paths),
 * no timestamps, paths in comments relative to the repository.
 *
 * Usage: node scripts/build-action.mjs [outdir]   (default dist-action)
 *
 * dist-action/ sits one level under the repository root on purpose: src/paths.ts finds
 * detections/, demo/, data/ and package.json one directory above the running module, as it
 * does from dist/ and src/. The ReDoS probe's worker (src/rules/redos.ts) is a second entry,
 * found next to the bundle as ./redos-worker.js.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = process.argv[2] ?? join(root, "dist-action");

await build({
  absWorkingDir: root,
  entryPoints: { index: "src/action/main.ts", "redos-worker": "src/rules/redos-worker.ts" },
  outdir,
  bundle: true,
  platform: "node",
  target: "node24",
  format: "esm",
  // Some dependencies are CommonJS and require() Node's modules; an ES module has no require.
  banner: {
    js: 'import { createRequire as __aeaCreateRequire } from "node:module";\nconst require = __aeaCreateRequire(import.meta.url);',
  },
  sourcemap: false,
  // Third-party licence notices kept, at the end of each file.
  legalComments: "eof",
  logLevel: "warning",
  charset: "utf8",
});
