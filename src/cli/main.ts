/**
 * The command line. Exit codes (docs/cli.md): 0 complete and nothing at or above --fail-on;
 * 1 findings at or above --fail-on; 2 scan incomplete (unless --allow-incomplete); 3 usage or
 * configuration error; 4 internal error (a bug: the tool failed, not the input). Errors are one sentence on stderr; --debug adds the stack.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
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
import { isSeverity, type ScanResult, SEVERITIES, type Severity } from "../model/finding.js";
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
import { type StatePruneFlags, statePrune } from "./state.js";

/**
 * Exit codes. 4 is kept apart from 2 so a gate can tell "the data could not all be read" (fail
 * closed, fix the input or the permissions) from "the tool itself failed" (report a bug).
 */
export const EXIT = { ok: 0, findings: 1, incomplete: 2, usage: 3, internal: 4 } as const;

interface ScanFlags {
  demo?: boolean;
  input?: string[];
  format?: string;
  output?: string;
  failOn?: string;
  rules?: string[];
  allowIncomplete?: boolean;
  workers?: string;
  color?: boolean;
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

type ScanCommandFlags = ScanFlags & LiveFlags;

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  /** AZURE_EXEC_AUDIT_* variables are read here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where ./azure-exec-audit.yaml is looked for (default the process's working directory). */
  cwd?: string;
  /** When set, the report is streamed here (with backpressure) instead of through stdout(). */
  stdoutStream?: NodeJS.WritableStream;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
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
 * The selected format's option values, by key. An option of another format given on the command
 * line is a usage error: silently ignoring it would hide a typo in --format.
 */
function formatOptions(
  format: OutputFormat,
  bindings: readonly FormatOptionBinding[],
  cmd: Command,
): Record<string, OptionValue> {
  const values: Record<string, OptionValue> = {};
  for (const b of bindings) {
    const value: unknown = cmd.getOptionValue(b.attribute);
    if (b.format !== format) {
      // A config file may hold one format's options for the runs that pick it; a flag may not.
      if (cmd.getOptionValueSource(b.attribute) === "cli") {
        throw new UsageError(`${b.flag} applies to --format ${b.format.name} only`);
      }
      continue;
    }
    values[b.option.key] = typeof value === "string" || typeof value === "boolean" ? value : undefined;
  }
  return values;
}

/** Where the report goes, and how to finish it (a file is flushed and closed; stdout stays open). */
interface ReportTarget {
  sink: OutputSink;
  finish(): Promise<void>;
}

function reportTarget(output: string | undefined, io: Io): ReportTarget {
  if (output !== undefined) {
    // Opened on the first write, so a renderer that rejects its options leaves the file alone.
    const file = fileSink(output);
    const asUsage = async (step: () => Promise<void>): Promise<void> => {
      try {
        await step();
      } catch (e) {
        throw new UsageError(
          `cannot write --output ${output} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    };
    return { sink: { write: (chunk) => asUsage(() => file.write(chunk)) }, finish: () => asUsage(() => file.end()) };
  }
  const sink: OutputSink = io.stdoutStream ? sinkFor(io.stdoutStream) : { write: async (chunk) => io.stdout(chunk) };
  return { sink, finish: async () => undefined };
}

/** Renders through the target's sink; a report always ends with a newline. */
async function writeReport(
  format: OutputFormat,
  result: ScanResult,
  ctx: RenderContext,
  output: string | undefined,
  io: Io,
): Promise<void> {
  const target = reportTarget(output, io);
  let last = "";
  const sink: OutputSink = {
    async write(chunk) {
      if (chunk.length === 0) return;
      last = chunk;
      await target.sink.write(chunk);
    },
  };
  try {
    await format.render(result, ctx, sink);
    if (!last.endsWith("\n")) await sink.write("\n");
  } catch (e) {
    // The render error is the one to report; closing the file is best effort.
    await target.finish().catch(() => undefined);
    throw e;
  }
  await target.finish();
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
  "sarifArtifactUri",
  "failOn",
  "state",
  "maxConcurrency",
  "readAppSettings",
] as const satisfies readonly SettingKey[];

/**
 * The flags as if everything had been typed: command line, then AZURE_EXEC_AUDIT_* variables,
 * then the config file (docs/cli.md#precedence). Inline suppression entries come back apart.
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
  const fromEnv = settingsFromEnv(env, formatNames());
  const file = loadConfig({ explicit: flags.config, env, cwd: io.cwd ?? process.cwd(), formats: formatNames() });
  const merged = mergeSettings(cli, fromEnv, file?.settings ?? {});
  const out: Record<string, unknown> = { ...flags };
  for (const key of SETTING_KEYS) if (key !== "sarifArtifactUri") delete out[key];
  Object.assign(out, merged);
  if (merged.sarifArtifactUri !== undefined && cli.sarifArtifactUri === undefined)
    cmd.setOptionValueWithSource("sarifArtifactUri", merged.sarifArtifactUri, "config");
  const inline = Array.isArray(merged.suppressions) ? merged.suppressions : undefined;
  if (inline) delete out.suppressions;
  return { flags: out as ScanCommandFlags, ...(inline ? { inlineSuppressions: inline } : {}) };
}

/**
 * Crash-safety tests stop a scan (or `state prune`) at a named point
 * (`AZURE_EXEC_AUDIT_TEST_PAUSE=opened|applied|written|pruned`) and kill it there with SIGKILL:
 * the process says where it is on stderr and waits for ever.
 */
/** --overlap: a duration up to a day (default one hour). */
function overlapMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_OVERLAP_MS;
  const ms = parseDuration(value);
  if (ms === undefined || ms > 86_400_000)
    throw new UsageError(`--overlap takes a duration up to a day (30m, 1h, 6h), got '${sanitizeForTerminal(value)}'`);
  return ms;
}

export async function testPause(point: "opened" | "applied" | "written" | "pruned", io: Io): Promise<void> {
  if (process.env.AZURE_EXEC_AUDIT_TEST_PAUSE !== point) return;
  io.stderr(`azure-exec-audit: paused at ${point}\n`);
  await new Promise(() => setInterval(() => undefined, 60_000));
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
  const formatName = flags.format ?? (io.isTTY && !flags.output ? "table" : "json");
  const format = getFormat(formatName);
  if (!format) throw new UsageError(`unknown --format '${formatName}' (use ${formatNames().join(", ")})`);
  const options = formatOptions(format, bindings, cmd);
  let failOn: Severity | undefined;
  if (flags.failOn !== undefined) {
    const f = flags.failOn.toLowerCase();
    if (!isSeverity(f)) throw new UsageError(`unknown --fail-on '${flags.failOn}' (use ${SEVERITIES.join(", ")})`);
    failOn = f;
  }
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
  // Locked before anything is read; a second scan on the same state stops here (exit 3).
  const state = flags.state === false ? undefined : await openState(flags.state ?? DEFAULT_STATE_FILE);
  let result: ScanResult;
  try {
    if (state) await testPause("opened", io);
    const collectors: Collector[] = [];
    if (inputs.length > 0) collectors.push(new FilesCollector(inputs, workers === undefined ? {} : { workers }));
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
    const outcome = await runScan({
      collectors,
      ruleDirs: flags.rules,
      ...(engine ? { state: engine.state, ...(engine.history ? { history: engine.history } : {}) } : {}),
      ...(incremental ? { overlap: incremental } : {}),
    });
    for (const e of outcome.ruleErrors) io.stderr(`azure-exec-audit: rule skipped: ${e.message}\n`);
    // After the engine, before any output: what was accepted is marked, never dropped; then the
    // lifecycle, which keeps `suppressed` as suppressions set it.
    result = applySuppressions(outcome.result, suppressions, new Date());
    for (const d of result.diagnostics)
      if (d.code === DIAGNOSTIC_CODES.suppressionExpired)
        io.stderr(`azure-exec-audit: ${sanitizeForTerminal(d.message)}\n`);
    if (baseline) result = markBaseline(result, baseline);
    if (state) result = state.apply(result, outcome.readKinds);
    if (state) await testPause("applied", io);
    const ctx: RenderContext = {
      toolVersion: toolVersion(),
      color: !flags.output && io.isTTY && flags.color !== false,
      options,
    };
    await writeReport(format, result, ctx, flags.output, io);
    if (state) await testPause("written", io);
    // Committed only once the report is out: a scan whose report failed has not "seen" anything.
    state?.commit();
  } catch (e) {
    state?.abandon();
    throw e;
  }
  if (!result.complete) {
    const bad = result.coverage.filter((c) => c.status !== "complete");
    for (const c of bad)
      io.stderr(`azure-exec-audit: ${c.status} read of ${c.scope}: ${c.reason ?? "no reason given"}\n`);
    if (!flags.allowIncomplete) {
      io.stderr(
        "azure-exec-audit: scan incomplete; fix the inputs above or pass --allow-incomplete to accept partial results\n",
      );
      return EXIT.incomplete;
    }
  }
  if (failOn && failingFindings(result.findings, failOn).length > 0) return EXIT.findings;
  return EXIT.ok;
}

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
    .option("-i, --input <path...>", "files or directories of records (JSON, JSON Lines, .gz; any supported shape)")
    // Read from the registry now, so a format registered before main() runs is a valid choice.
    .addOption(
      new Option("-f, --format <format>", "output format (default: table on a terminal, json otherwise)").choices(
        formatNames(),
      ),
    )
    .option("-o, --output <file>", "write the report to a file instead of stdout");
  for (const format of formats()) {
    for (const option of format.options ?? []) {
      const o = new Option(option.flag, `${option.description} (--format ${format.name})`);
      if (option.default !== undefined) o.default(option.default);
      scan.addOption(o);
      bindings.push({ format, option, flag: optionFlagName(option) ?? option.flag, attribute: o.attributeName() });
    }
  }
  scan
    .addOption(
      new Option("--fail-on <severity>", "exit 1 when a finding is at or above this severity").choices([...SEVERITIES]),
    )
    .option("--subscription <id...>", "read this Azure subscription live (repeatable)")
    .option("--all-subscriptions", "read every subscription the identity can see")
    .option("--management-group <id>", "read every subscription under this management group")
    .addOption(
      new Option("--auth <credential>", "pin one credential (default: DefaultAzureCredential)").choices([
        ...AUTH_MODES,
      ]),
    )
    .addOption(new Option("--cloud <name>", "Azure cloud (default: public)").choices([...CLOUDS]))
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
    .option("--no-color", "plain table output")
    .option("--debug", "print stack traces for errors")
    .addHelpText(
      "after",
      `
Examples:
  azure-exec-audit scan --demo
  azure-exec-audit scan --demo --format json --output report.json
  azure-exec-audit scan --demo --state ./audit-state.db     # then: findings list --state ./audit-state.db
  azure-exec-audit scan --input ./activity-export/ --format sarif --output results.sarif --fail-on high
  azure-exec-audit scan --input activity.jsonl.gz roles.json --rules ./my-rules
  azure-exec-audit scan --demo --suppressions ./suppressions.yaml --fail-on high
  azure-exec-audit scan --demo --baseline baseline.json --fail-on high
  azure-exec-audit scan --all-subscriptions --since 24h --format sarif --output results.sarif
  azure-exec-audit scan --subscription <id> --auth cli --read-app-settings
  azure-exec-audit scan --subscription <id> --workspace <workspace GUID> --since 30d
  azure-exec-audit scan --archive "https://<account>.blob.core.windows.net/insights-activity-logs?<SAS>" --since 180d

Exit codes: 0 complete, nothing at or above --fail-on; 1 findings at or above --fail-on;
            2 scan incomplete (some input unreadable); 3 usage or configuration error
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
      writeStarterConfig(resolve(io.cwd ?? process.cwd(), flags.config), flags.config, !!flags.force);
      io.stdout(`wrote ${sanitizeForTerminal(flags.config)}: edit it, then run azure-exec-audit scan\n`);
      setExit(EXIT.ok);
    });
  const rules = program
    .command("rules")
    .description("list, test and lint Sigma rules (the built-in pack unless directories are given)");
  rules
    .command("list")
    .argument("[dir...]", "rule directories")
    .addOption(new Option("-f, --format <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (dirs: string[], flags: { format: string }) => setExit(await rulesList(dirs, flags.format, io)));
  rules
    .command("test")
    .description("run the match/nomatch cases in each rule's .tests.yml; exit 1 if any fails")
    .argument("[dir...]", "rule directories")
    .action(async (dirs: string[]) => setExit(await rulesTest(dirs, io)));
  rules
    .command("lint")
    .description("check ids, metadata, ATT&CK ids (v18.1), vector ids and tests files; exit 1 on problems")
    .argument("[dir...]", "rule directories")
    .action(async (dirs: string[]) => setExit(await rulesLint(dirs, io)));
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
  findings
    .command("list")
    .description("every finding in the state, with its status, first and last seen")
    .option("--state <file>", `state file (default ${DEFAULT_STATE_FILE})`)
    .addOption(new Option("--status <status>", "only findings with this status").choices([...LIST_STATUSES]))
    .addOption(new Option("-f, --format <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (flags: FindingsListFlags) => setExit(await findingsList(flags, io)));
  findings
    .command("diff")
    .description("what changed between the latest scan and an earlier one (default: the one before it)")
    .option("--state <file>", `state file (default ${DEFAULT_STATE_FILE})`)
    .option("--since <scan id>", "compare with this scan (default: the previous scan)")
    .addOption(new Option("-f, --format <format>", "output format").choices(["table", "json"]).default("table"))
    .action(async (flags: FindingsDiffFlags) => setExit(await findingsDiff(flags, io)));
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
    .action(async (flags: StatePruneFlags) => setExit(await statePrune(flags, io)));
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
