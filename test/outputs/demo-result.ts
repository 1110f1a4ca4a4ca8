/** The demo tenant's scan result, computed once per test file (the reports are rendered from it). */
import { FilesCollector } from "../../src/collectors/files/index.js";
import type { ScanResult } from "../../src/model/finding.js";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runScan } from "../../src/scan/run.js";

let cached: Promise<ScanResult> | undefined;

export function demoResult(): Promise<ScanResult> {
  cached ??= runScan({ collectors: [new FilesCollector([DEMO_TENANT_DIR])] }).then((r) => r.result);
  return cached;
}
