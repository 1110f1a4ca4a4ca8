/**
 * The command line. Exit codes (docs/cli.md): 0 complete and nothing at or above --fail-on;
 * 1 findings at or above --fail-on; 2 scan incomplete (unless --allow-incomplete); 3 usage or
 * configuration error; 4 internal error (a bug: the tool failed, not the input). Errors are one sentence on stderr; --debug adds the stack.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { AUTH_MODES, CLOUDS } from "../azure/live/options.js";
import { FilesCollector } from "../collectors/files/index.js";
import type { Collector } from "../collectors/types.js";
import {
  CONFIG_FILE,
  loadConfig,
  mergeSettings,
  type SettingKey,
  type Settings,
  settingsFromEnv,
  TARGET_KEYS,
  writeStarterConfig,
} from "../config/index.js";
import { failingFindings, markBaseline, readBaseline } from "../gate/index.js";
import { DIAGNOSTIC_CODES } from "../model/diagnostics.js";
import { type Finding, isSeverity, type ScanResult, SEVERITIES, type Severity } from "../model/finding.js";
import {
  fileSink,
  formatNames,
  formats,
  getFormat,
  type OptionValue,
  type OutputFormat,
  type OutputOption,
  type OutputSink,
  optionFlagName,
  type RenderContext,
  sinkFor,
} from "../outputs/index.js";
import { DEMO_TENANT_DIR, toolVersion } from "../paths.js";
import { runScan } from "../scan/run.js";
import { parseDuration } from "../sigma/duration.js";
import { DEFAULT_OVERLAP_MS, DEFAULT_STATE_FILE, LIST_STATUSES } from "../store/types.js";
import { applySuppressions, loadSuppressionFile, type SuppressionEntry } from "../suppress/index.js";
import { UsageError } from "../util/errors.js";
import { sanitizeForTerminal } from "../util/text.js";
import { userPath } from "../util/user-path.js";
import { type FindingsDiffFlags, type FindingsListFlags, findingsDiff, findingsList, openState } from "./findings.js";
import { DEFAULT_LOOKBACK, isLive, type LiveFlags } from "./live-flags.js";
import {
  EXPORT_FORMATS,
  EXPORT_TARGETS,
  rulesCoverage,
  rulesExport,
  rulesLint,
  rulesList,
  rulesTest,
} from "./rules.js";
import {
  addSentinelOptions,
  connectSentinel,
  deliverScan,
  type ExportSentinelFlags,
  enqueueScan,
  exportSentinel,
  type SentinelFlags,
  sentinelTarget,
} from "./sentinel.js";
import { type StatePruneFlags, statePrune } from "./state.js";
import { colorAllowed, Progress, terminalWidth } from "./terminal.js";

/**
 * Exit codes. 4 is kept apart from 2 so a gate can tell "the data could not all be read" (fail
 * closed, fix the input or the permissions) from "the tool itself failed" (report a bug).
 */
export const EXIT = { ok: 0, findings: 1, incomplete: 2, usage: 3, internal: 4 } as const;

interface ScanFlags {
  demo?: boolean;
  input?: string[];
  format?: string;
  /** Plain paths and `FORMAT=PATH` pairs from the command line; one plain path after merging. */
  output?: string | string[];
  reports?: string[];
  failOn?: string;
  severity?: string[];
  enable?: string[];
  disable?: string[];
  rules?: string[];
  allowIncomplete?: boolean;
  allowEmpty?: boolean;
  workers?: string;
  exclude?: string[];
  color?: boolean;
  wide?: boolean;
  quiet?: boolean;
  debug?: boolean;
  suppressions?: string;
  baseline?: string;
  sarifArtifactUri?: string;
  config?: string;
  /** `--state <file>`: a path; `--no-state`: false; neither: undefined (the default file). */
  state?: string | false;
  /** Incremental scans: how far before a watermark reading starts again (a duration). */
  overlap?: string;
}

type ScanCommandFlags = ScanFlags & LiveFlags & SentinelFlags;

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  /** Whether stderr is a terminal (progress is drawn only there); default false. */
  stderrIsTTY?: boolean;
  /** How long a scan runs before progress is drawn (default 1 s; tests set 0). */
  progressDelayMs?: number;
  /** stdout's width when it is a terminal (process.stdout.columns). */
  columns?: number;
  /** AZURE_EXEC_AUDIT_* variables are read here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where ./azure-exec-audit.yaml is looked for (default the process's working directory). */
  cwd?: string;
  /** When set, the report is streamed here (with backpressure) instead of through stdout(). */
  stdoutStream?: NodeJS.WritableStream;
  /**
   * Handed the scan's result as the reports are written from it: a program embedding the CLI
   * (the GitHub Action) derives its outputs and job summary from the same value, not a re-read.
   */
  onResult?: (result: ScanResult) => void;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
  stderrIsTTY: !!process.stderr.isTTY,
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  stdoutStream: process.stdout,
};

/** A registered format's option as commander knows it. */
interface FormatOptionBinding {
  format: OutputFormat;
  option: OutputOption;
  flag: string;
  /** Commander's name for the parsed value (`--sarif-artifact-uri` → `sarifArtifactUri`). */
  attribute: string;
}

/**
 * A format's option values, by key. An option of a format none of the reports uses, given on the
 * command line, is a usage error: silently ignoring it would hide a typo in --format.
 */
function formatOptions(
  format: OutputFormat,
  used: ReadonlySet<OutputFormat>,
  bindings: readonly FormatOptionBinding[],
  cmd: Command,
): Record<string, OptionValue> {
  const values: Record<string, OptionValue> = {};
  for (const b of bindings) {
    const value: unknown = cmd.getOptionValue(b.attribute);
    if (!used.has(b.format)) {
      // A config file may hold one format's options for the runs that pick it; a flag may not.
      if (cmd.getOptionValueSource(b.attribute) === "cli") {
        throw new UsageError(`${b.flag} applies to --format ${b.format.name} only`);
      }
      continue;
    }
    if (b.format !== format) continue;
    values[b.option.key] = typeof value === "string" || typeof value === "boolean" ? value : undefined;
  }
  return values;
}

/** One report of the scan: a format, and a file (undefined: stdout). */
interface Report {
  format: OutputFormat;
  path?: string;
}

/** The stdout reader went away (`| head`): not an error, the rest of the report is not wanted. */
function isClosedPipe(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
}

/**
 * Renders one report. A file is written whole or not at all (a temporary file renamed at the
 * end); a report on stdout ends with a newline. Returns false when stdout's reader closed early.
 */
async function writeReport(report: Report, result: ScanResult, ctx: RenderContext, io: Io): Promise<boolean> {
  const { format, path } = report;
  if (path !== undefined) {
    const file = fileSink(path);
    let last = "";
    try {
      await format.render(result, ctx, {
        write: async (chunk) => {
          if (chunk.length === 0) return;
          const first = last === "";
          last = chunk;
          await file.write(chunk);
          if (first) await testPause("reporting", io);
        },
      });
      if (!last.endsWith("\n")) await file.write("\n");
      await file.end();
    } catch (e) {
      await file.abort();
      const code = (e as NodeJS.ErrnoException).code;
      // A render error (a bug, a bad option) is reported as itself; a failed write names the file.
      if (code === undefined) throw e;
      throw new UsageError(`cannot write --output ${path} (${code})`);
    }
    return true;
  }
  const sink: OutputSink = io.stdoutStream ? sinkFor(io.stdoutStream) : { write: async (chunk) => io.stdout(chunk) };
  let last = "";
  try {
    await format.render(result, ctx, {
      write: async (chunk) => {
        if (chunk.length === 0) return;
        last = chunk;
        await sink.write(chunk);
      },
    });
    if (!last.endsWith("\n")) await sink.write("\n");
  } catch (e) {
    if (isClosedPipe(e)) return false;
    throw e;
  }
  return true;
}

/** A path from the config file (made absolute there) as messages and findings name it: relative when under the working directory. */
function shortPath(path: string, io: Io): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(io.cwd ?? process.cwd(), path);
  return rel.length > 0 && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** Scan flags that a config file or the environment can also set (their commander attribute names). */
const SETTING_KEYS = [
  ...TARGET_KEYS,
  "since",
  "until",
  "rules",
  "suppressions",
  "baseline",
  "format",
  "output",
  "reports",
  "sarifArtifactUri",
  "failOn",
  "severity",
  "enable",
  "disable",
  "state",
  "maxConcurrency",
  "readAppSettings",
  "sentinelEndpoint",
  "sentinelRuleId",
  "sentinelStream",
] as const satisfies readonly SettingKey[];

/** `FORMAT=PATH` when FORMAT is a registered format (any case); anything else is a plain path. */
function splitReport(value: string): { format: string; path: string } | undefined {
  const eq = value.indexOf("=");
  if (eq <= 0) return undefined;
  const format = value.slice(0, eq).toLowerCase();
  return getFormat(format) ? { format, path: value.slice(eq + 1) } : undefined;
}

/**
 * The command line's --output values: at most one plain path (the --format report's file), and
 * any number of FORMAT=PATH reports.
 */
function cliOutputs(values: readonly string[]): { output?: string; reports?: string[] } {
  const plain = values.filter((v) => !splitReport(v));
  if (new Set(plain).size > 1)
    throw new UsageError(
      `--output is given ${plain.length} times (${plain.join(", ")}); write one plain --output for --format, and FORMAT=PATH for each further report (--output sarif=results.sarif)`,
    );
  const reports = values.filter((v) => splitReport(v));
  return { ...(plain[0] !== undefined ? { output: plain[0] } : {}), ...(reports.length > 0 ? { reports } : {}) };
}

/**
 * The flags as if everything had been typed: command line, then AZURE_EXEC_AUDIT_* variables,
 * then the config file (docs/cli.md#precedence). Inline suppression entries come back apart.
 * Paths are the user's: `./x`, `x` and `~/x` come out the same (src/util/user-path.ts).
 */
function effectiveFlags(
  flags: ScanCommandFlags,
  io: Io,
  cmd: Command,
): { flags: ScanCommandFlags; inlineSuppressions?: SuppressionEntry[] } {
  const env = io.env ?? process.env;
  const cli: Settings = {};
  for (const key of SETTING_KEYS)
    if (cmd.getOptionValueSource(key) === "cli") (cli as Record<string, unknown>)[key] = (flags as Settings)[key];
  if (Array.isArray(flags.output) && cmd.getOptionValueSource("output") === "cli") {
    delete cli.output;
    Object.assign(cli, cliOutputs(flags.output));
  }
  const fromEnv = settingsFromEnv(env, formatNames());
  const config = flags.config === undefined ? undefined : userPath(flags.config);
  const file = loadConfig({ explicit: config, env, cwd: io.cwd ?? process.cwd(), formats: formatNames() });
  const merged = mergeSettings(cli, fromEnv, file?.settings ?? {});
  const out: Record<string, unknown> = { ...flags };
  for (const key of SETTING_KEYS) if (key !== "sarifArtifactUri") delete out[key];
  Object.assign(out, merged);
  if (merged.sarifArtifactUri !== undefined && cli.sarifArtifactUri === undefined)
    cmd.setOptionValueWithSource("sarifArtifactUri", merged.sarifArtifactUri, "config");
  const inline = Array.isArray(merged.suppressions) ? merged.suppressions : undefined;
  if (inline) delete out.suppressions;
  const f = out as ScanCommandFlags;
  if (f.input) f.input = f.input.map(userPath);
  if (f.rules) f.rules = f.rules.map(userPath);
  if (typeof f.output === "string") f.output = userPath(f.output);
  if (f.reports)
    f.reports = f.reports.map((r) => {
      const s = splitReport(r);
      return s ? `${s.format}=${userPath(s.path)}` : r;
    });
  if (typeof f.suppressions === "string") f.suppressions = userPath(f.suppressions);
  if (f.baseline !== undefined) f.baseline = userPath(f.baseline);
  if (typeof f.state === "string") f.state = userPath(f.state);
  return { flags: f, ...(inline ? { inlineSuppressions: inline } : {}) };
}

/** Every report of the scan: the --format one (stdout or the plain --output), then each FORMAT=PATH. */
function plannedReports(flags: ScanCommandFlags, io: Io): Report[] {
  const named = (name: string, what: string): OutputFormat => {
    const format = getFormat(name);
    if (!format) throw new UsageError(`unknown ${what} '${name}' (use ${formatNames().join(", ")})`);
    return format;
  };
  const output = typeof flags.output === "string" ? flags.output : undefined;
  const extra: Report[] = (flags.reports ?? []).map((r) => {
    const s = splitReport(r) as { format: string; path: string };
    if (s.path.length === 0) throw new UsageError(`--output ${r} names no file after '='`);
    return { format: named(s.format, "--output format"), path: s.path };
  });
  const reports: Report[] = [];
  // With only FORMAT=PATH reports and no --format, stdout gets the table on a terminal and
  // nothing otherwise (a CI log wants the one-line verdict, not a second copy of the JSON).
  if (output !== undefined || flags.format !== undefined || extra.length === 0 || io.isTTY) {
    const name = flags.format ?? (io.isTTY && output === undefined ? "table" : "json");
    reports.push({ format: named(name, "--format"), ...(output !== undefined ? { path: output } : {}) });
  }
  reports.push(...extra);
  const byPath = new Map<string, Report>();
  for (const r of reports) {
    if (r.path === undefined) continue;
    const key = resolve(r.path);
    const other = byPath.get(key);
    if (other)
      throw new UsageError(
        `--output ${r.path} is named for two reports (${other.format.name} and ${r.format.name}); give each its own file`,
      );
    byPath.set(key, r);
  }
  return reports;
}

/** --overlap: a duration up to a day (default one hour). */
function overlapMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_OVERLAP_MS;
  const ms = parseDuration(value);
  if (ms === undefined || ms > 86_400_000)
    throw new UsageError(`--overlap takes a duration up to a day (30m, 1h, 6h), got '${sanitizeForTerminal(value)}'`);
  return ms;
}

/**
 * Crash-safety tests stop a scan (or `state prune`) at a named point
 * (`AZURE_EXEC_AUDIT_TEST_PAUSE=opened|applied|reporting|written|pruned|sent`) and kill it there
 * (SIGKILL; SIGINT/SIGTERM at `reporting`, half-way through a report file; `sent`: after a
 * Sentinel page is sent, before the outbox is settled): the process says where it is on stderr
 * and waits for ever.
 */
export async function testPause(
  point: "opened" | "applied" | "reporting" | "written" | "pruned" | "sent",
  io: Io,
): Promise<void> {
  if (process.env.AZURE_EXEC_AUDIT_TEST_PAUSE !== point) return;
  io.stderr(`azure-exec-audit: paused at ${point}\n`);
  await new Promise(() => setInterval(() => undefined, 60_000));
}

/** `2 critical, 1 high`: the severities of some findings, most severe first. */
function bySeverity(findings: readonly Finding[]): string {
  return [...SEVERITIES]
    .reverse()
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

/** Parses a list flag: repeated, comma-separated or both (`--severity high,critical --severity medium`). */
function listValues(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

async function scanCommand(
  given: ScanCommandFlags,
  io: Io,
  cmd: Command,
  bindings: readonly FormatOptionBinding[],
): Promise<number> {
  const { flags, inlineSuppressions } = effectiveFlags(given, io, cmd);
  if (flags.demo && flags.input?.length) throw new UsageError("use either --demo or --input, not both");
  const inputs = flags.demo ? [DEMO_TENANT_DIR] : (flags.input ?? []);
  const live = isLive(flags);
  if (inputs.length === 0 && !live)
    throw new UsageError(
      `nothing to scan: pass --demo, --input <file or directory>, an Azure scope (--subscription <id>, --all-subscriptions, --management-group <id>), --workspace <id> or --archive <container URL>, or name scopes or sources in ${CONFIG_FILE} (azure-exec-audit init writes one)`,
    );
  const reports = plannedReports(flags, io);
  const used = new Set(reports.map((r) => r.format));
  const options = new Map(reports.map((r) => [r.format, formatOptions(r.format, used, bindings, cmd)]));
  let failOn: Severity | undefined;
  if (flags.failOn !== undefined) {
    const f = flags.failOn.toLowerCase();
    if (!isSeverity(f)) throw new UsageError(`unknown --fail-on '${flags.failOn}' (use ${SEVERITIES.join(", ")})`);
    failOn = f;
  }
  const severities = listValues(flags.severity).map((s) => {
    const v = s.toLowerCase();
    if (!isSeverity(v)) throw new UsageError(`unknown --severity '${s}' (use ${SEVERITIES.join(", ")})`);
    return v;
  });
  let workers: number | undefined;
  if (flags.workers !== undefined) {
    workers = Number(flags.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64)
      throw new UsageError(`--workers must be a whole number from 1 to 64, got '${flags.workers}'`);
  }
  // Read before any collector plans or reads, so a mistake in them costs no scan.
  const suppressions =
    inlineSuppressions ??
    (flags.suppressions !== undefined
      ? loadSuppressionFile(flags.suppressions, shortPath(flags.suppressions, io))
      : []);
  const baseline = flags.baseline !== undefined ? readBaseline(flags.baseline) : undefined;
  // Signed in before anything is read: a Sentinel export that cannot get a token costs no scan.
  const target = sentinelTarget(flags);
  const sentinel = target ? await connectSentinel(target, flags, io.env ?? process.env) : undefined;
  // Locked before anything is read; a second scan on the same state stops here (exit 3).
  const state = flags.state === false ? undefined : await openState(flags.state ?? DEFAULT_STATE_FILE);
  const env = io.env ?? process.env;
  const progress =
    io.stderrIsTTY && !flags.quiet
      ? new Progress(io.stderr, io.progressDelayMs, undefined, !colorAllowed(env, true, flags.color))
      : undefined;
  let result: ScanResult;
  let cut = false;
  try {
    if (state) await testPause("opened", io);
    const collectors: Collector[] = [];
    if (inputs.length > 0)
      collectors.push(
        new FilesCollector(inputs, {
          ...(workers === undefined ? {} : { workers }),
          ...(flags.exclude?.length ? { exclude: flags.exclude } : {}),
        }),
      );
    // Incremental with state: each windowed scope resumes from its watermark, unless --since is
    // typed on the command line (a deliberate re-read of that window).
    const incremental =
      state && live
        ? state.incremental(overlapMs(flags.overlap), cmd.getOptionValueSource("since") !== "cli")
        : undefined;
    if (live) {
      // Loaded only now: the Azure SDK clients cost a files scan ~45 MB and most of its start-up.
      const { liveCollectors } = await import("./live.js");
      const azure = liveCollectors(flags, new Date(), state?.digests, incremental?.resume);
      incremental?.until(azure.window.until);
      // One sentence and exit 3 when no token can be had, before anything is read.
      if (azure.signsIn) await azure.session.verify();
      collectors.push(...azure.collectors);
    }
    // With state, first-seen rules learn from the baselines earlier scans kept.
    const engine = state?.engine();
    const select = { enable: listValues(flags.enable), disable: listValues(flags.disable) };
    progress?.start();
    let outcome: Awaited<ReturnType<typeof runScan>>;
    try {
      outcome = await runScan({
        collectors,
        ruleDirs: flags.rules,
        select,
        ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
        ...(engine ? { state: engine.state, ...(engine.history ? { history: engine.history } : {}) } : {}),
        ...(incremental ? { overlap: incremental } : {}),
      });
    } finally {
      progress?.stop();
    }
    for (const e of outcome.ruleErrors) io.stderr(`azure-exec-audit: rule skipped: ${e.message}\n`);
    // After the engine, before any output: what was accepted is marked, never dropped; then the
    // lifecycle, which keeps `suppressed` as suppressions set it.
    result = applySuppressions(outcome.result, suppressions, new Date());
    for (const d of result.diagnostics)
      if (d.code === DIAGNOSTIC_CODES.suppressionExpired)
        io.stderr(`azure-exec-audit: ${sanitizeForTerminal(d.message)}\n`);
    if (baseline) result = markBaseline(result, baseline);
    if (state) result = state.apply(result, outcome.readKinds);
    // After the lifecycle, so a finding outside --severity is neither resolved nor reported.
    if (severities.length > 0) result = filterSeverity(result, severities);
    // The rows commit with the findings, or neither does.
    if (state && sentinel) enqueueScan(state, result, sentinel);
    if (state) await testPause("applied", io);
    io.onResult?.(result);
    const color = colorAllowed(env, io.isTTY, flags.color);
    const width = flags.wide ? undefined : terminalWidth(env, io.isTTY ? io.columns : undefined);
    for (const report of reports) {
      const onStdout = report.path === undefined;
      const ctx: RenderContext = {
        toolVersion: toolVersion(),
        color: onStdout && color,
        ...(onStdout && width !== undefined ? { width } : {}),
        ...(flags.wide ? { wide: true } : {}),
        options: options.get(report.format) ?? {},
      };
      if (!(await writeReport(report, result, ctx, io))) cut = true;
    }
    if (state) await testPause("written", io);
    // Committed only once the reports are out: a scan whose report failed, or whose reader
    // stopped reading (`| head`), has not shown what it found, so it has not "seen" anything.
    if (cut) state?.abandon();
    else state?.commit();
  } catch (e) {
    state?.abandon();
    throw e;
  }
  // After the commit: what is not delivered now waits in the outbox (docs/sentinel.md).
  const delivery = sentinel
    ? await deliverScan(sentinel, state?.file, result, io, state ? () => testPause("sent", io) : undefined)
    : undefined;
  return verdict(
    result,
    {
      failOn,
      reports,
      allowIncomplete: !!flags.allowIncomplete,
      allowEmpty: !!flags.allowEmpty,
      undelivered: delivery !== undefined && !delivery.ok,
    },
    io,
  );
}

/** Keeps the findings of the given severities, and says how many others there were. */
function filterSeverity(result: ScanResult, keep: readonly Severity[]): ScanResult {
  const findings = result.findings.filter((f) => keep.includes(f.severity));
  const dropped = result.findings.length - findings.length;
  if (dropped === 0) return result;
  const diagnostics = [
    ...result.diagnostics,
    {
      code: DIAGNOSTIC_CODES.severityFiltered,
      message: `${dropped} finding(s) of other severities than ${keep.join(", ")} are not reported (--severity)`,
    },
  ];
  return { ...result, findings, diagnostics };
}

/**
 * The exit code the scan earned, with one line on stderr saying why whenever it is not 0: a CI
 * log that shows a red step must also show its reason.
 */
function verdict(
  result: ScanResult,
  opts: {
    failOn?: Severity;
    reports: readonly Report[];
    allowIncomplete: boolean;
    allowEmpty: boolean;
    /** Sentinel rows that wait in the outbox (deliverScan said why on stderr). */
    undelivered?: boolean;
  },
  io: Io,
): number {
  const empty = result.coverage.filter((c) => c.status === "empty");
  const bad = result.coverage.filter((c) => c.status === "partial" || c.status === "failed");
  for (const c of bad)
    io.stderr(
      `azure-exec-audit: ${c.status} read of ${sanitizeForTerminal(c.scope)}: ${sanitizeForTerminal(c.reason ?? "no reason given")}\n`,
    );
  if (bad.length > 0 && !opts.allowIncomplete) {
    io.stderr(
      "azure-exec-audit: scan incomplete; fix the inputs above or pass --allow-incomplete to accept partial results\n",
    );
    return EXIT.incomplete;
  }
  if (empty.length > 0 && !opts.allowEmpty) {
    const names = empty.map((c) => `${c.source} ${sanitizeForTerminal(c.scope)}`).join(", ");
    io.stderr(
      `azure-exec-audit: scan incomplete: no records were read from ${names}; an empty export or a wrong path or window passes nothing — check it, or pass --allow-empty if there is truly nothing to read\n`,
    );
    return EXIT.incomplete;
  }
  // Undelivered rows are not silent: exit 2, as for what could not be read.
  if (opts.undelivered) return EXIT.incomplete;
  if (opts.failOn) {
    const failing = failingFindings(result.findings, opts.failOn);
    if (failing.length > 0) {
      const files = opts.reports.filter((r) => r.path !== undefined).map((r) => r.path as string);
      const where = files.length > 0 ? `see ${files.join(", ")}` : "see the report";
      io.stderr(
        `azure-exec-audit: ${failing.length} ${failing.length === 1 ? "finding" : "findings"} at or above ${opts.failOn} (${bySeverity(failing)}): ${sanitizeForTerminal(where)}\n`,
      );
      return EXIT.findings;
    }
  }
  return EXIT.ok;
}

/**
 * An option with fixed values, taken in any case (`--fail-on HIGH`, `--format SARIF`). Given twice
 * with different values it is a usage error: silently keeping the last hides a mistake.
 */
function choice(flags: string, description: string, values: readonly string[], fallback?: string): Option {
  const o = new Option(flags, description).choices(values);
  if (fallback !== undefined) o.default(fallback);
  let given: string | undefined;
  o.argParser((raw: string) => {
    const v = raw.trim().toLowerCase();
    if (!values.includes(v)) throw new InvalidArgumentError(`Allowed choices are ${values.join(", ")} (in any case).`);
    if (given !== undefined && given !== v) throw new InvalidArgumentError(`It was already given as '${given}'.`);
    given = v;
    return v;
  });
  return o;
}

/** A repeatable option's values, in order. */
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("azure-exec-audit")
    .description(
      "Finds code execution in Azure: run commands, script extensions, serverless execution, ARM API abuse, malicious images.",
    )
    .version(toolVersion(), "-V, --version")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  const bindings: FormatOptionBinding[] = [];
  const scan = program
    .command("scan")
    .description("scan Activity Log, RBAC, Function App and container image records for execution")
    .option("--demo", "scan the bundled fictional demo tenant")
    .option(
      "-i, --input <path...>",
      "files or directories of records (JSON, JSON Lines, .gz; any supported shape); - reads standard input",
    )
    .option(
      "--exclude <glob...>",
      "files or directories in an --input directory not to read (glob on the path inside the directory or the name; * any run, ? one character)",
    )
    // Read from the registry now, so a format registered before main() runs is a valid choice.
    .addOption(
      choice("-f, --format <format>", "output format (default: table on a terminal, json otherwise)", formatNames()),
    )
    .addOption(
      new Option(
        "-o, --output <file>",
        "write the --format report to a file instead of stdout; FORMAT=PATH (repeatable) writes one more report in that format (--output sarif=results.sarif)",
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    );
  for (const format of formats()) {
    for (const option of format.options ?? []) {
      const o = new Option(option.flag, `${option.description} (--format ${format.name})`);
      if (option.default !== undefined) o.default(option.default);
      scan.addOption(o);
      bindings.push({ format, option, flag: optionFlagName(option) ?? option.flag, attribute: o.attributeName() });
    }
  }
  scan
    .addOption(choice("--fail-on <severity>", "exit 1 when a finding is at or above this severity", [...SEVERITIES]))
    .addOption(
      new Option(
        "--severity <severities>",
        "report (and gate on) only findings of these severities, comma-separated or repeated",
      ).argParser(collect),
    )
    .addOption(
      new Option(
        "--enable <selectors>",
        "run only these rules: ids, tags (attack.t1651), levels or globs over ids and rule files; comma-separated or repeated",
      ).argParser(collect),
    )
    .addOption(
      new Option("--disable <selectors>", "do not run these rules (same selectors as --enable)").argParser(collect),
    )
    .option("--subscription <id...>", "read this Azure subscription live (repeatable)")
    .option("--all-subscriptions", "read every subscription the identity can see")
    .option("--management-group <id>", "read every subscription under this management group")
    .addOption(choice("--auth <credential>", "pin one credential (default: DefaultAzureCredential)", [...AUTH_MODES]))
    .addOption(choice("--cloud <name>", "Azure cloud (default: public)", [...CLOUDS]))
    .option("--arm-endpoint <url>", "a custom cloud's ARM endpoint (its sign-in host goes in AZURE_AUTHORITY_HOST)")
    .option("--arm-audience <uri>", "a custom cloud's ARM token audience (default: the public cloud's)")
    .option("--logs-endpoint <url>", "a custom cloud's Log Analytics query endpoint (…/v1)")
    .option(
      "--since <when>",
      `start of the Activity Log window: a duration back (7d, 24h) or an ISO date (default ${DEFAULT_LOOKBACK}, at most 90d)`,
    )
    .option("--until <when>", "end of the window (default: now)")
    .option(
      "--overlap <duration>",
      "with state: how far before each scope's watermark an incremental read starts again, for late events (default 1h)",
    )
    .option(
      "--workspace <id>",
      "read the Activity Log from this Log Analytics workspace (its GUID) instead of the API; no 90-day bound",
    )
    .option(
      "--archive <url>",
      "read the Activity Log from a diagnostic-settings export container (https://<account>.blob.core.windows.net/insights-activity-logs, SAS optional)",
    )
    .option("--read-app-settings", "read Function App settings (they hold secrets: only what rules need is kept)")
    .option("--max-concurrency <n>", "Azure requests in flight at once (default 8; at most 4 per subscription)")
    .option(
      "--max-layer-bytes <size>",
      "read image layers up to this compressed size for cron, shell start-up, systemd and authorized_keys files (default 4MiB; 0 = none)",
    )
    .option("--rules <dir...>", "additional Sigma rule directories (a broken rule is reported and skipped)")
    .option(
      "--suppressions <file>",
      "YAML file of accepted findings (rule, resource, principal; reason and expires required): reported as suppressed, never fail --fail-on",
    )
    .option("--baseline <report.json>", "a JSON report of an earlier scan: --fail-on fails only on findings not in it")
    .option("--allow-incomplete", "exit by findings even when some input could not be read")
    .option("--allow-empty", "exit by findings even when an Activity Log source or input gave no records at all")
    .option("--workers <n>", "threads reading a large JSON Lines file (default: the cores, at most 4; 1 = none)")
    .option(
      "--config <file>",
      `config file (default ./${CONFIG_FILE} when present; flags beat AZURE_EXEC_AUDIT_* variables, which beat the file)`,
    )
    .option(
      "--state <file>",
      `state file that keeps findings between scans (new, open, resolved) (default ${DEFAULT_STATE_FILE})`,
    )
    .option("--no-state", "keep no state: the report is this scan alone")
    .option("--no-color", "plain table output (NO_COLOR=1 and TERM=dumb do the same; FORCE_COLOR=1 forces colour)")
    .option("--wide", "table: no width limit, ids and resource paths in full")
    .option("-q, --quiet", "no progress line on stderr")
    .option("--debug", "print stack traces for errors");
  addSentinelOptions(scan)
    .addHelpText(
      "after",
      `
Examples:
  azure-exec-audit scan --demo
  azure-exec-audit scan --demo --format json --output report.json
  azure-exec-audit scan --demo --state ./audit-state.db     # then: findings list --state ./audit-state.db
  azure-exec-audit scan --input ./activity-export/ --format sarif --output results.sarif --fail-on high
  azure-exec-audit scan --demo --format table --output json=out/report.json --output sarif=out/results.sarif
  azure-exec-audit scan --demo --disable attack.t1059.009 --severity critical,high
  azure-exec-audit scan --input activity.jsonl.gz roles.json --rules ./my-rules
  azure-exec-audit scan --demo --suppressions ./suppressions.yaml --fail-on high
  azure-exec-audit scan --demo --baseline baseline.json --fail-on high
  azure-exec-audit scan --all-subscriptions --since 24h --format sarif --output results.sarif
  azure-exec-audit scan --subscription <id> --auth cli --read-app-settings
  azure-exec-audit scan --subscription <id> --workspace <workspace GUID> --since 30d
  azure-exec-audit scan --archive "https://<account>.blob.core.windows.net/insights-activity-logs?<SAS>" --since 180d
  azure-exec-audit scan --subscription <id> --sentinel-endpoint https://<dcr>.ingest.monitor.azure.com --sentinel-rule-id dcr-<hex>

Exit codes: 0 complete, nothing at or above --fail-on; 1 findings at or above --fail-on;
            2 scan incomplete (some input unreadable, no records at all: --allow-empty, or Sentinel
            rows not delivered); 3 usage or configuration error
            (including a state file that is locked, read-only, corrupted or not ours);
            4 internal error.`,
    )
    .action(async (flags: ScanFlags, cmd: Command) => {
      setExit(await scanCommand(flags, io, cmd, bindings));
    });
  program
    .command("init")
    .description(`write a commented starter ${CONFIG_FILE} (valid as written)`)
    .option("--config <file>", "where to write it", CONFIG_FILE)
    .option("--force", "overwrite an existing file")
    .action((flags: { config: string; force?: boolean }) => {
      const file = userPath(flags.config);
      writeStarterConfig(resolve(io.cwd ?? process.cwd(), file), file, !!flags.force);
      io.stdout(`wrote ${sanitizeForTerminal(file)}: edit it, then run azure-exec-audit scan\n`);
      setExit(EXIT.ok);
    });
  const rules = program
    .command("rules")
    .description("list, test and lint Sigma rules (the built-in pack unless directories are given)");
  const dirsOf = (dirs: string[]): string[] => dirs.map(userPath);
  rules
    .command("list")
    .argument("[dir...]", "rule directories")
    .addOption(choice("-f, --format <format>", "output format", ["table", "json"], "table"))
    .action(async (dirs: string[], flags: { format: string }) =>
      setExit(await rulesList(dirsOf(dirs), flags.format, io)),
    );
  rules
    .command("test")
    .description("run the match/nomatch cases in each rule's .tests.yml; exit 1 if any fails")
    .argument("[dir...]", "rule directories")
    .addOption(choice("-f, --format <format>", "output format", ["text", "json"], "text"))
    .action(async (dirs: string[], flags: { format: string }) =>
      setExit(await rulesTest(dirsOf(dirs), flags.format, io)),
    );
  rules
    .command("lint")
    .description(
      "check ids (also against the built-in pack), metadata, ATT&CK ids (v18.1), vector ids and tests files; exit 1 on problems",
    )
    .argument("[dir...]", "rule directories")
    .addOption(choice("-f, --format <format>", "output format", ["text", "json"], "text"))
    .action(async (dirs: string[], flags: { format: string }) =>
      setExit(await rulesLint(dirsOf(dirs), flags.format, io)),
    );
  rules
    .command("coverage")
    .description("print docs/coverage.md: which rules cover which Azure execution vector")
    .action(async () => setExit(await rulesCoverage(io)));
  rules
    .command("export")
    .description("compile Activity Log rules into Microsoft Sentinel analytics rules (docs/sentinel.md)")
    .argument("[dir...]", "rule directories")
    .addOption(
      new Option("--target <target>", "where the rules run").choices([...EXPORT_TARGETS]).makeOptionMandatory(),
    )
    .addOption(
      new Option("--format <format>", "Azure-Sentinel YAML or an ARM template")
        .choices([...EXPORT_FORMATS])
        .default("yaml"),
    )
    .option("--output <file>", "write to a file instead of stdout")
    .action(async (dirs: string[], flags: { target: string; format: string; output?: string }) =>
      setExit(await rulesExport(dirs, flags, io)),
    );
  const findings = program
    .command("findings")
    .description("findings kept in the state file by earlier scans: their status, and what changed");
  const stateOf = <T extends { state?: string }>(flags: T): T =>
    flags.state === undefined ? flags : { ...flags, state: userPath(flags.state) };
  findings
    .command("list")
    .description("every finding in the state, with its status, first and last seen")
    .option("--state <file>", `state file (default ${DEFAULT_STATE_FILE})`)
    .addOption(choice("--status <status>", "only findings with this status", [...LIST_STATUSES]))
    .addOption(choice("-f, --format <format>", "output format", ["table", "json"], "table"))
    .action(async (flags: FindingsListFlags) => setExit(await findingsList(stateOf(flags), io)));
  findings
    .command("diff")
    .description("what changed between the latest scan and an earlier one (default: the one before it)")
    .option("--state <file>", `state file (default ${DEFAULT_STATE_FILE})`)
    .option("--since <scan id>", "compare with this scan (default: the previous scan)")
    .addOption(choice("-f, --format <format>", "output format", ["table", "json"], "table"))
    .action(async (flags: FindingsDiffFlags) => setExit(await findingsDiff(stateOf(flags), io)));
  program
    .command("export")
    .description("send what the state file's outbox holds to an external system")
    .command("sentinel")
    .description(
      "send the rows waiting in the outbox to Microsoft Sentinel (Logs Ingestion API); exit 2 when some still wait",
    )
    .option("--state <file>", `state file (default ${DEFAULT_STATE_FILE})`)
    .option("--sentinel-endpoint <url>", "the data collection rule's logs ingestion endpoint (or its DCE)")
    .option("--sentinel-rule-id <id>", "the data collection rule's immutable id (dcr-…)")
    .option("--sentinel-stream <name>", "the DCR's input stream (default Custom-AzureExecAudit_CL)")
    .addOption(
      new Option("--auth <credential>", "pin one credential (default: DefaultAzureCredential)").choices([
        ...AUTH_MODES,
      ]),
    )
    .addOption(new Option("--cloud <name>", "Azure cloud (default: public)").choices([...CLOUDS]))
    .option("--config <file>", `config file (default ./${CONFIG_FILE} when present)`)
    .action(async (flags: ExportSentinelFlags, cmd: Command) => setExit(await exportSentinel(flags, io, cmd)));
  program
    .command("state")
    .description("the state file itself: what it keeps, and for how long")
    .command("prune")
    .description(
      "remove scans, per-scan finding rows, resolved findings and digest-cache entries older than --older-than, then compact the file (scans do this automatically with the defaults)",
    )
    .option("--state <file>", `state file (default ${DEFAULT_STATE_FILE})`)
    .option("--older-than <duration>", "age past which entries go, e.g. 30d, 12w (default 90d)")
    .option("--dry-run", "print what would be removed; change nothing")
    .action(async (flags: StatePruneFlags) => setExit(await statePrune(stateOf(flags), io)));
  return program;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const debug = argv.includes("--debug");
  try {
    // Built per call, inside the try: a registered format whose option clashes with a flag
    // of scan makes commander throw here, and that is reported like any internal error.
    const program = buildProgram(io, (c) => {
      code = c;
    });
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      io.stderr(`azure-exec-audit: ${e.message}\n`);
      return EXIT.usage;
    }
    io.stderr(
      `azure-exec-audit: internal error: ${(e as Error).message}${debug ? "" : " (run with --debug for details)"}\n`,
    );
    if (debug) io.stderr(`${(e as Error).stack}\n`);
    return EXIT.internal;
  }
}
