#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point: the compiled CLI (npm install runs `prepare`, which builds dist/).
// A young generation of 4 MB semi-spaces (V8's default grows them to 16-32 MB): the scan's
// allocations are short-lived line buffers and records, and the default let a 300k-event scan's
// RSS reach ~380 MB where ~260 MB does the same work (docs/performance.md, memory).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/run.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "azure-exec-audit: dist/ is missing; run `npm install` (or `npm run build`) in the project first\n",
  );
  process.exit(3);
}
await import(entry.href);
