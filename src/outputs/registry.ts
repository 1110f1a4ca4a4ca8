/**
 * The output format registry. A format is one object (name, description, options, render); the
 * CLI lists the registered names as `--format` choices and adds every format's options to
 * `scan` when it builds its program, so registering a format before the CLI runs is all a new
 * format needs.
 */

import type { ScanResult } from "../model/finding.js";
import { type OutputSink, stringSink } from "./sink.js";

export type { OutputSink, StreamSink } from "./sink.js";
export { type FileSink, fileSink, removeUnfinishedReports, sinkFor, stringSink } from "./sink.js";

export type OptionValue = string | boolean | undefined;

/** A command-line option of one format, parsed by the CLI and handed over in `ctx.options[key]`. */
export interface OutputOption {
  /** Commander flag syntax; long form only, prefixed with the format name: `--sarif-artifact-uri <path>`. */
  flag: string;
  description: string;
  /** Name of the value in `RenderContext.options`. */
  key: string;
  /** Shown in help and used when the flag is not given. */
  default?: string | boolean;
}

export interface RenderContext {
  toolVersion: string;
  /** Whether the output may contain colour codes (a terminal, no --output, no --no-color). */
  color: boolean;
  /** Terminal width, when known: a table fits its rows to it. */
  width?: number;
  /** `--wide`: no width limit, ids in full. */
  wide?: boolean;
  /** Values of this format's options, by `OutputOption.key`. */
  options: Readonly<Record<string, OptionValue>>;
}

export interface OutputFormat {
  /** Lower-case `--format` value. */
  readonly name: string;
  /** One line for help. */
  readonly description: string;
  readonly options?: readonly OutputOption[];
  /** Conventional file extension for `--output`, without the dot. */
  readonly fileExtension?: string;
  /** Writes the report in pieces; strings from the data must be redacted, capped and escaped here. */
  render(result: ScanResult, ctx: RenderContext, out: OutputSink): Promise<void>;
}

// Names become CLI values and flag prefixes, so they are kept to what a shell passes unquoted.
const FORMAT_NAME = /^[a-z][a-z0-9-]*$/;
const LONG_FLAG = /^--([a-z][a-z0-9-]*)(?:\s+(?:<[^<>\s]+>|\[[^[\]\s]+\]))?$/;

const registry = new Map<string, OutputFormat>();

/** The long flag of an option (`--sarif-artifact-uri`), or undefined when the syntax is not one the CLI accepts. */
export function optionFlagName(option: OutputOption): string | undefined {
  const m = LONG_FLAG.exec(option.flag.trim());
  return m ? `--${m[1]}` : undefined;
}

/**
 * Adds a format. Throws on a duplicate name, a name that is not lower-case kebab, and options
 * that are not `--<format>-…` long flags or that repeat a flag or key: a clash would otherwise
 * surface as a confusing commander error, or one format reading another's value.
 */
export function registerFormat(format: OutputFormat): void {
  const name = format.name;
  if (!FORMAT_NAME.test(name)) {
    throw new Error(`output format name "${name}" must be lower-case letters, digits and dashes`);
  }
  if (registry.has(name)) throw new Error(`output format "${name}" is already registered`);
  const takenFlags = new Set(formats().flatMap((f) => (f.options ?? []).map((o) => optionFlagName(o))));
  const keys = new Set<string>();
  for (const option of format.options ?? []) {
    const flag = optionFlagName(option);
    if (!flag?.startsWith(`--${name}-`)) {
      throw new Error(`output format "${name}": option "${option.flag}" must be a long flag starting with --${name}-`);
    }
    if (takenFlags.has(flag)) throw new Error(`output format "${name}": option ${flag} is already registered`);
    if (option.key.length === 0 || keys.has(option.key)) {
      throw new Error(`output format "${name}": option ${flag} needs a key of its own`);
    }
    takenFlags.add(flag);
    keys.add(option.key);
  }
  registry.set(name, format);
}

/** The format called `name`, whatever its case; undefined when none is registered. */
export function getFormat(name: string): OutputFormat | undefined {
  return registry.get(name.toLowerCase());
}

/** Registered names, in registration order (built-ins first). */
export function formatNames(): string[] {
  return [...registry.keys()];
}

export function formats(): OutputFormat[] {
  return [...registry.values()];
}

/** The values a format sees when no option is given: each option's default. */
export function defaultOptions(format: OutputFormat): Record<string, OptionValue> {
  return Object.fromEntries((format.options ?? []).map((o) => [o.key, o.default]));
}

/** Renders into a string (tests, and callers that need the whole text); options default as on the CLI. */
export async function renderToString(
  format: OutputFormat,
  result: ScanResult,
  ctx: Omit<RenderContext, "options"> & { options?: RenderContext["options"] },
): Promise<string> {
  const sink = stringSink();
  await format.render(result, { ...ctx, options: { ...defaultOptions(format), ...ctx.options } }, sink);
  return sink.text();
}
