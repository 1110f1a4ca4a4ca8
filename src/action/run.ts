/**
 * The GitHub Action (action.yml, docs/github-action.md): the CLI's `scan` run in-process with a
 * command line built from the step's inputs, so the action has no scan logic of its own — same
 * reports, same exit codes (docs/cli.md), same one-line reasons. What the action adds: the
 * runner's OIDC sign-in (client-id + tenant-id), the step outputs, the job summary (the CLI's
 * Markdown report) and the `::error::` line a red step shows.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as core from "@actions/core";
import { ClientAssertionCredential } from "@azure/identity";
import { CLOUDS, type CloudName } from "../azure/live/options.js";
import { cloudEndpoints, credentialOptions, supplyCredential } from "../azure/live/session.js";
import { EXIT, type Io, main } from "../cli/main.js";
import { failingFindings } from "../gate/index.js";
import type { ScanResult } from "../model/finding.js";
import { isNew } from "../outputs/digest.js";
import { JOB_SUMMARY_MAX_BYTES } from "../outputs/formats/markdown.js";
import { getFormat, renderMarkdown } from "../outputs/index.js";
import { toolVersion } from "../paths.js";
import { UsageError } from "../util/errors.js";

/** The audience GitHub's OIDC token is asked for, as Entra ID federated credentials expect it. */
export const OIDC_AUDIENCE = "api://AzureADTokenExchange";

/** Defaults shared by action.yml and a run without them (a local trial of the bundle). */
export const DEFAULTS = {
  "fail-on": "high",
  lookback: "7d",
  "report-file": "azure-exec-audit/report.json",
  "sarif-file": "azure-exec-audit/results.sarif",
  formats: "markdown,html",
} as const;

/** Formats the `formats` input may name: the JSON report and SARIF are always written. */
const EXTRA_FORMATS = ["markdown", "csv", "html", "navigator"] as const;

/** Where each extra format goes, next to the JSON report (`report.json` → `report.html`). */
const EXTRA_SUFFIX: Record<(typeof EXTRA_FORMATS)[number], string> = {
  markdown: ".md",
  csv: ".csv",
  html: ".html",
  // Its own suffix: `.json` would be the JSON report's file.
  navigator: ".layer.json",
};

/** The inputs as the step received them (action.yml); a missing input reads as "". */
export type Inputs = (name: string) => string;

/** Reads inputs the way @actions/core does (INPUT_<NAME>, spaces to _, trimmed). */
export const stepInputs: Inputs = (name) => core.getInput(name);

/** A list input: comma-, space- or newline-separated. */
function list(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** A boolean input: YAML 1.2 core schema words, as core.getBooleanInput, but "" is the default. */
function bool(inputs: Inputs, name: string, fallback = false): boolean {
  const v = inputs(name);
  if (v === "") return fallback;
  if (["true", "True", "TRUE"].includes(v)) return true;
  if (["false", "False", "FALSE"].includes(v)) return false;
  throw new UsageError(`input ${name} must be true or false, got '${v.slice(0, 40)}'`);
}

/**
 * An input's value as one flag: `--flag=value`, so a value that starts with `-` stays a value
 * and cannot become another flag.
 */
function flag(name: string, value: string): string {
  return `--${name}=${value}`;
}

/**
 * The running workflow's file (`.github/workflows/gate.yml`), from GITHUB_WORKFLOW_REF
 * (`owner/repo/.github/workflows/gate.yml@refs/heads/main`): code scanning shows each result at
 * a file of the repository, and the workflow that gates is the one a reader should open.
 */
export function workflowFile(ref: string | undefined): string | undefined {
  return ref ? /^[^/]+\/[^/]+\/(\.github\/workflows\/[^@]+)@/.exec(ref)?.[1] : undefined;
}

export interface Plan {
  argv: string[];
  reportFile: string;
  sarifFile: string;
  /** Every report file, for the summary's pointer. */
  files: string[];
  failOn: string | undefined;
}

/** The `scan` command line the inputs stand for. */
export function planScan(inputs: Inputs): Plan {
  const get = (name: keyof typeof DEFAULTS | string): string =>
    inputs(name) || (DEFAULTS as Record<string, string>)[name] || "";
  const demo = bool(inputs, "demo");
  const subscriptions = list(inputs("subscriptions"));
  const managementGroup = inputs("management-group");
  const all = bool(inputs, "all-subscriptions");
  const live = subscriptions.length > 0 || managementGroup !== "" || all;
  if (!demo && !live)
    throw new UsageError(
      "name what to scan: the subscriptions, management-group or all-subscriptions input, or demo: true",
    );
  if (demo && live)
    throw new UsageError(
      "demo: true scans the bundled demo tenant; leave subscriptions, management-group and all-subscriptions unset",
    );
  const argv = ["scan"];
  if (demo) argv.push("--demo");
  if (all) argv.push("--all-subscriptions");
  for (const s of subscriptions) argv.push(flag("subscription", s));
  if (managementGroup !== "") argv.push(flag("management-group", managementGroup));
  // The Activity Log window applies to a live scan only; the demo's records are files.
  if (!demo) argv.push(flag("since", get("lookback")));
  const failOn = get("fail-on").toLowerCase();
  if (failOn !== "none") argv.push(flag("fail-on", failOn));
  const reportFile = get("report-file");
  const sarifFile = get("sarif-file");
  if (!reportFile.endsWith(".json")) throw new UsageError(`report-file must end in .json, got '${reportFile}'`);
  argv.push(flag("format", "json"), flag("output", reportFile), flag("output", `sarif=${sarifFile}`));
  const files = [reportFile, sarifFile];
  for (const name of new Set(list(get("formats")).map((f) => f.toLowerCase()))) {
    if (!(EXTRA_FORMATS as readonly string[]).includes(name) || !getFormat(name))
      throw new UsageError(`unknown format '${name}' in formats (use ${EXTRA_FORMATS.join(", ")})`);
    const file = reportFile.replace(/\.json$/, EXTRA_SUFFIX[name as (typeof EXTRA_FORMATS)[number]]);
    argv.push(flag("output", `${name}=${file}`));
    files.push(file);
  }
  for (const name of ["suppressions", "baseline", "max-concurrency", "cloud", "arm-endpoint", "auth"] as const) {
    const v = inputs(name);
    if (v !== "") argv.push(flag(name, v));
  }
  const artifact = inputs("sarif-artifact-uri") || workflowFile(process.env.GITHUB_WORKFLOW_REF);
  if (artifact) argv.push(flag("sarif-artifact-uri", artifact));
  for (const dir of list(inputs("rules"))) argv.push(flag("rules", dir));
  for (const name of ["sentinel-endpoint", "sentinel-rule-id", "sentinel-stream"] as const) {
    const v = inputs(name);
    if (v !== "") argv.push(flag(name, v));
  }
  const state = inputs("state");
  argv.push(state === "" ? "--no-state" : flag("state", state));
  if (bool(inputs, "allow-incomplete")) argv.push("--allow-incomplete");
  if (bool(inputs, "read-app-settings")) argv.push("--read-app-settings");
  return { argv, reportFile, sarifFile, files, failOn: failOn === "none" ? undefined : failOn };
}

/**
 * Native OIDC: with client-id and tenant-id, the scan signs in as that app registration with the
 * runner's OIDC token as the client assertion, fetched anew whenever the identity library needs
 * one (a GitHub token lives minutes; a scan may outlast it). Needs `id-token: write`.
 */
export function oidcCredential(inputs: Inputs): void {
  const clientId = inputs("client-id");
  const tenantId = inputs("tenant-id");
  if (clientId === "" && tenantId === "") return;
  if (clientId === "" || tenantId === "")
    throw new UsageError("client-id and tenant-id go together (both, for OIDC sign-in; neither, after azure/login)");
  if (inputs("auth") !== "")
    throw new UsageError("use either client-id and tenant-id (OIDC sign-in) or auth, not both");
  const cloudInput = inputs("cloud");
  if (cloudInput !== "" && !(CLOUDS as readonly string[]).includes(cloudInput))
    throw new UsageError(`unknown cloud '${cloudInput.slice(0, 40)}' (use ${CLOUDS.join(", ")})`);
  const cloud = cloudEndpoints({
    ...(cloudInput !== "" ? { cloud: cloudInput as CloudName } : {}),
    ...(inputs("arm-endpoint") !== "" ? { armEndpoint: inputs("arm-endpoint") } : {}),
  });
  supplyCredential({
    name: "the runner's OIDC token (client-id, tenant-id)",
    credential: new ClientAssertionCredential(
      tenantId,
      clientId,
      () => core.getIDToken(OIDC_AUDIENCE),
      credentialOptions(cloud),
    ),
    fix: "give the job `permissions: id-token: write`, and add a federated credential for this repository (and branch, environment or pull_request) to the app registration named by client-id",
  });
}

export interface Outcome {
  code: number;
  result: ScanResult | undefined;
  /** The CLI's last line on stderr: the reason for a non-zero exit. */
  reason: string | undefined;
}

/** Runs the scan the inputs describe; the CLI's stderr goes to the log as it comes. */
export async function scanPlanned(plan: Plan): Promise<Outcome> {
  for (const f of plan.files) mkdirSync(dirname(f), { recursive: true });
  let result: ScanResult | undefined;
  const lines: string[] = [];
  const io: Io = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => {
      process.stderr.write(s);
      lines.push(...s.split("\n").filter((l) => l.trim() !== ""));
    },
    isTTY: false,
    onResult: (r) => {
      result = r;
    },
  };
  const code = await main(plan.argv, io);
  // Commander closes a usage error with a pointer to --help, which a workflow cannot follow.
  const last = lines
    .filter((l) => !l.startsWith("(run with --help"))
    .at(-1)
    ?.replace(/^(azure-exec-audit|error): /, "");
  return { code, result, reason: last };
}

/** The step outputs (action.yml). */
export function outputsOf(result: ScanResult | undefined, plan: Plan): Record<string, string> {
  // As the summary counts them: suppressed findings are reported but not counted.
  const findings = (result?.findings ?? []).filter((f) => f.status !== "suppressed");
  return {
    "findings-count": String(findings.length),
    // Not in the baseline, or first seen by this scan with state; 0 with neither to compare to.
    "new-count": String(findings.filter(isNew).length),
    "high-count": String(failingFindings(findings, "high").length),
    incomplete: String(result === undefined || !result.complete),
    "sarif-file": plan.sarifFile,
    "report-file": plan.reportFile,
  };
}

/** Inline code for a path in the summary: no backticks or line breaks of its own. */
function code(s: string): string {
  return `\`${s.replace(/[`\r\n]/g, "_")}\``;
}

/** The job summary: the CLI's Markdown report, well under GitHub's 1 MiB, then where the files are. */
export function summaryOf(result: ScanResult, plan: Plan): string {
  const md = renderMarkdown(result, {
    maxBytes: JOB_SUMMARY_MAX_BYTES,
    toolVersion: toolVersion(),
    fullReport: "the reports uploaded as artifacts of this run",
  });
  return `${md.trimEnd()}\n\nReports of this run (upload them with actions/upload-artifact): ${plan.files.map(code).join(", ")}\n`;
}

/** The action: inputs to scan to outputs, summary and verdict. Returns the exit code. */
export async function runAction(inputs: Inputs = stepInputs): Promise<number> {
  let plan: Plan;
  try {
    plan = planScan(inputs);
    oidcCredential(inputs);
  } catch (e) {
    const message = e instanceof UsageError ? e.message : `internal error: ${(e as Error).message}`;
    core.setFailed(`azure-exec-audit: ${message}`);
    return e instanceof UsageError ? EXIT.usage : EXIT.internal;
  }
  const { code, result, reason } = await scanPlanned(plan);
  for (const [k, v] of Object.entries(outputsOf(result, plan))) core.setOutput(k, v);
  if (result && process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summaryOf(result, plan)).write();
  if (code === EXIT.ok) {
    const n = result?.findings.length ?? 0;
    core.info(
      `azure-exec-audit: scan complete, ${n} ${n === 1 ? "finding" : "findings"}${plan.failOn ? `, none at or above ${plan.failOn} to gate on` : ""}`,
    );
  } else {
    core.setFailed(`azure-exec-audit: ${reason ?? `exit code ${code}`}`);
  }
  return code;
}
