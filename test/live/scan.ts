/**
 * A live scan against the loopback emulator through the real CLI, as the live end-to-end tests
 * and the fault matrix run it: every subscription, app settings, 30 days, a JSON report.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningEmulator } from "../../emulator/server.ts";
import { runCli } from "../helpers.js";

/** The service principal sign-in the emulator accepts, and its CA. */
export function emulatorEnv(e: RunningEmulator): NodeJS.ProcessEnv {
  return {
    NODE_EXTRA_CA_CERTS: e.info.caFile,
    AZURE_TENANT_ID: e.info.tenantId,
    AZURE_CLIENT_ID: e.info.clientId,
    AZURE_CLIENT_SECRET: e.info.clientSecret,
    AZURE_AUTHORITY_HOST: e.info.authorityHost,
  };
}

/** Runs the scan, writing its report under `dir`; `report` is undefined when none was written. */
export async function liveScan<R>(
  e: RunningEmulator,
  dir: string,
  extra: string[] = [],
  env: NodeJS.ProcessEnv = {},
  timeoutMs?: number,
): Promise<{ code: number | null; stdout: string; stderr: string; report?: R; ms: number }> {
  const out = join(dir, `live-${Math.random().toString(36).slice(2)}.json`);
  const started = Date.now();
  const args = [
    "scan",
    "--no-state",
    "--all-subscriptions",
    "--arm-endpoint",
    e.info.armEndpoint,
    "--auth",
    "env",
    "--read-app-settings",
    "--since",
    "30d",
    "--format",
    "json",
    "--output",
    out,
    ...extra,
  ];
  const r = await runCli(args, { ...emulatorEnv(e), ...env }, timeoutMs);
  let report: R | undefined;
  try {
    report = JSON.parse(readFileSync(out, "utf8")) as R;
  } catch {
    report = undefined;
  }
  return { ...r, ...(report !== undefined ? { report } : {}), ms: Date.now() - started };
}
