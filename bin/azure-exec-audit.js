#!/usr/bin/env node
// Entry point: the compiled CLI (npm install runs `prepare`, which builds dist/).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/run.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "azure-exec-audit: dist/ is missing; run `npm install` (or `npm run build`) in the project first\n",
  );
  process.exit(3);
}
await import(entry.href);
