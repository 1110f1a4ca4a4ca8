/**
 * The command line. Exit codes (docs/cli.md): 0 complete and nothing at or above --fail-on;
 * 1 findings at or above --fail-on; 2 scan incomplete (unless --allow-incomplete) or internal
 * error; 3 usage or configuration error. Errors are one sentence on stderr; --debug adds the stack.
 */
import { writeFile } from "node:fs/promises";
import { Command, CommanderError, Option } from "commander";
import { isSeverity, SEVERITIES, type Severity, severityRank } from "../model/finding.js";
import { FORMATS, isFormat } from "../outputs/index.js";
import { DEMO_TENANT_DIR, toolVersion } from "../paths.js";
import { runScan } from "../scan.js";
import { UsageError } from "../util/errors.js";
import { rulesCoverage, rulesLint, rulesList, rulesTest } from "./rules.js";

export const EXIT = { ok: 0, findings: 1, incomplete: 2, usage: 3 } as const;

interface ScanFlags {
  demo?: boolean;
  input?: string[];
  format?: string;
  output?: string;
  failOn?: string;
  rules?: string[];
  allowIncomplete?: boolean;
  color?: boolean;
  debug?: boolean;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
};

async function scanCommand(flags: ScanFlags, io: Io): Promise<number> {
  if (flags.demo && flags.input?.length) throw new UsageError("use either --demo or --input, not both");
  const inputs = flags.demo ? [DEMO_TENANT_DIR] : (flags.input ?? []);
  if (inputs.length === 0) throw new UsageError("nothing to scan: pass --demo or --input <file or directory>");
  const format = flags.format ?? (io.isTTY && !flags.output ? "table" : "json");
  if (!isFormat(format)) throw new UsageError(`unknown --format '${format}' (use ${Object.keys(FORMATS).join(", ")})`);
  let failOn: Severity | undefined;
  if (flags.failOn !== undefined) {
    const f = flags.failOn.toLowerCase();
    if (!isSeverity(f)) throw new UsageError(`unknown --fail-on '${flags.failOn}' (use ${SEVERITIES.join(", ")})`);
    failOn = f;
  }
  const { result, ruleErrors } = await runScan({ inputs, ruleDirs: flags.rules });
  for (const e of ruleErrors) io.stderr(`azure-exec-audit: rule skipped: ${e.message}\n`);
  const text = FORMATS[format](result, {
    toolVersion: toolVersion(),
    color: format === "table" && !flags.output && io.isTTY && flags.color !== false,
  });
  if (flags.output) {
    try {
      await writeFile(flags.output, text.endsWith("\n") ? text : `${text}\n`);
    } catch (e) {
      throw new UsageError(
        `cannot write --output ${flags.output} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  } else {
    io.stdout(text.endsWith("\n") ? text : `${text}\n`);
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
  if (failOn && result.findings.some((f) => severityRank(f.severity) >= severityRank(failOn))) return EXIT.findings;
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

  program
    .command("scan")
    .description("scan Activity Log, RBAC, Function App and container image records for execution")
    .option("--demo", "scan the bundled fictional demo tenant")
    .option("-i, --input <path...>", "files or directories of records (JSON, JSON Lines, .gz; any supported shape)")
    .addOption(
      new Option("-f, --format <format>", "output format (default: table on a terminal, json otherwise)").choices([
        "table",
        "json",
        "sarif",
      ]),
    )
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .addOption(
      new Option("--fail-on <severity>", "exit 1 when a finding is at or above this severity").choices([...SEVERITIES]),
    )
    .option("--rules <dir...>", "additional Sigma rule directories (a broken rule is reported and skipped)")
    .option("--allow-incomplete", "exit by findings even when some input could not be read")
    .option("--no-color", "plain table output")
    .option("--debug", "print stack traces for errors")
    .addHelpText(
      "after",
      `
Examples:
  azure-exec-audit scan --demo
  azure-exec-audit scan --demo --format json --output report.json
  azure-exec-audit scan --input ./activity-export/ --format sarif --output results.sarif --fail-on high
  azure-exec-audit scan --input activity.jsonl.gz roles.json --rules ./my-rules

Exit codes: 0 complete, nothing at or above --fail-on; 1 findings at or above --fail-on;
            2 scan incomplete (some input unreadable); 3 usage or configuration error.`,
    )
    .action(async (flags: ScanFlags) => {
      setExit(await scanCommand(flags, io));
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
  return program;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  const debug = argv.includes("--debug");
  try {
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
    return EXIT.incomplete;
  }
}
