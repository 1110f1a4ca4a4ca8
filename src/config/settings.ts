/**
 * Scan settings from three layers, with the precedence command line > environment > config
 * file (docs/cli.md#precedence). Settings are keyed like the scan flags they feed, so the merged
 * result is what `scan` would have got had everything been typed on the command line.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { SuppressionEntry } from "../suppress/load.js";
import { locateEntries } from "../suppress/load.js";
import { suppressionMissingHint } from "../suppress/schema.js";
import { formatPath, type Path, parseYaml, readYaml, validateYaml } from "../util/yaml-config.js";
import { type Config, configSchema } from "./schema.js";

export const CONFIG_FILE = "azure-exec-audit.yaml";
export const ENV_PREFIX = "AZURE_EXEC_AUDIT_";

export interface Settings {
  // What to scan: one group (see mergeSettings).
  demo?: boolean;
  input?: string[];
  subscription?: string[];
  allSubscriptions?: boolean;
  managementGroup?: string;
  workspace?: string;
  archive?: string;
  // Everything else: each key on its own.
  since?: string;
  until?: string;
  rules?: string[];
  /** A suppression file's path, or entries written in the config file. */
  suppressions?: string | SuppressionEntry[];
  baseline?: string;
  format?: string;
  output?: string;
  /** More reports: `FORMAT=PATH` each (`--output sarif=results.sarif`, `output.reports`). */
  reports?: string[];
  sarifArtifactUri?: string;
  failOn?: string;
  severity?: string[];
  enable?: string[];
  disable?: string[];
  /** The state store's file, or false for none. Passed through for the state store to read. */
  state?: string | false;
  maxConcurrency?: string;
  readAppSettings?: boolean;
  /** Sentinel export (docs/sentinel.md): the ingestion endpoint, the DCR's immutable id, the stream. */
  sentinelEndpoint?: string;
  sentinelRuleId?: string;
  sentinelStream?: string;
}

export type SettingKey = keyof Settings;

/** Keys that say what to scan: when the command line names any, the config file's are all ignored. */
export const TARGET_KEYS = [
  "demo",
  "input",
  "subscription",
  "allSubscriptions",
  "managementGroup",
  "workspace",
  "archive",
] as const satisfies readonly SettingKey[];

/**
 * The environment variables, each standing for one config key (the path in the file) and
 * read with the same validation. A small set: what a CI job or a container varies per run.
 */
export const ENV_VARS = {
  [`${ENV_PREFIX}CONFIG`]: { key: undefined, path: [] },
  [`${ENV_PREFIX}FAIL_ON`]: { key: "failOn", path: ["failOn"] },
  [`${ENV_PREFIX}FORMAT`]: { key: "format", path: ["output", "format"] },
  [`${ENV_PREFIX}OUTPUT`]: { key: "output", path: ["output", "file"] },
  [`${ENV_PREFIX}SINCE`]: { key: "since", path: ["lookback", "since"] },
  [`${ENV_PREFIX}SUPPRESSIONS`]: { key: "suppressions", path: ["suppressions"] },
  [`${ENV_PREFIX}BASELINE`]: { key: "baseline", path: ["baseline"] },
  [`${ENV_PREFIX}SENTINEL_ENDPOINT`]: { key: "sentinelEndpoint", path: ["sentinel", "endpoint"] },
  [`${ENV_PREFIX}SENTINEL_RULE_ID`]: { key: "sentinelRuleId", path: ["sentinel", "ruleId"] },
  [`${ENV_PREFIX}SENTINEL_STREAM`]: { key: "sentinelStream", path: ["sentinel", "stream"] },
} as const satisfies Record<string, { key: SettingKey | undefined; path: readonly string[] }>;

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Precedence per key: command line, then environment, then file; what to scan moves as one group. */
export function mergeSettings(cli: Settings, env: Settings, file: Settings): Settings {
  const out: Settings = {};
  const cliNamesTarget = TARGET_KEYS.some((k) => cli[k] !== undefined);
  const keys = new Set<SettingKey>([...Object.keys(cli), ...Object.keys(env), ...Object.keys(file)] as SettingKey[]);
  for (const key of keys) {
    const isTarget = (TARGET_KEYS as readonly string[]).includes(key);
    const value = isTarget
      ? cliNamesTarget
        ? cli[key]
        : (env[key] ?? file[key])
      : (cli[key] ?? env[key] ?? file[key]);
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** The config's values as settings; relative paths are taken from the config file's directory. */
export function settingsFromConfig(config: Config, baseDir: string, inline: SuppressionEntry[] = []): Settings {
  const path = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  const { scopes, sources, lookback, output } = config;
  return defined({
    input: sources?.inputs?.map((p) => path(p) as string),
    subscription: scopes?.subscriptions,
    allSubscriptions: scopes?.allSubscriptions,
    managementGroup: scopes?.managementGroup,
    workspace: sources?.workspace,
    archive: sources?.archive,
    since: lookback?.since,
    until: lookback?.until,
    rules: config.rules?.map((p) => path(p) as string),
    suppressions: typeof config.suppressions === "string" ? path(config.suppressions) : config.suppressions && inline,
    baseline: path(config.baseline),
    format: output?.format,
    output: path(output?.file),
    reports: output?.reports
      ? Object.entries(output.reports).flatMap(([f, p]) => (p === undefined ? [] : [`${f}=${path(p)}`]))
      : undefined,
    sarifArtifactUri: output?.sarifArtifactUri,
    failOn: config.failOn,
    severity: config.severity,
    enable: config.enable,
    disable: config.disable,
    state: config.state === false ? false : path(config.state),
    maxConcurrency: config.maxConcurrency === undefined ? undefined : String(config.maxConcurrency),
    readAppSettings: config.readAppSettings,
    sentinelEndpoint: config.sentinel?.endpoint,
    sentinelRuleId: config.sentinel?.ruleId,
    sentinelStream: config.sentinel?.stream,
  });
}

/** Sets `value` at `path` in a plain object. */
function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = target;
  for (const k of path.slice(0, -1)) {
    o[k] ??= {};
    o = o[k] as Record<string, unknown>;
  }
  o[path.at(-1) as string] = value;
}

/**
 * The AZURE_EXEC_AUDIT_* variables as settings, validated like the file; a bad value names the
 * variable: `AZURE_EXEC_AUDIT_FAIL_ON must be one of … (got 'severe')`. An empty variable is unset.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv, formats: readonly string[]): Settings {
  const partial: Record<string, unknown> = {};
  const byPath = new Map<string, string>();
  for (const [name, { key, path }] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (key === undefined || value === undefined || value.trim() === "") continue;
    setIn(partial, path, value);
    byPath.set(formatPath(path), name);
  }
  if (byPath.size === 0) return {};
  const config = validateYaml(
    configSchema(formats),
    { label: "", value: partial },
    { nameOf: (p: Path) => byPath.get(formatPath(p)) ?? formatPath(p) },
  );
  // Paths from the environment are the user's, as typed: relative to the working directory like flags.
  return defined({
    failOn: config.failOn,
    format: config.output?.format,
    output: config.output?.file,
    since: config.lookback?.since,
    suppressions: typeof config.suppressions === "string" ? config.suppressions : undefined,
    baseline: config.baseline,
    sentinelEndpoint: config.sentinel?.endpoint,
    sentinelRuleId: config.sentinel?.ruleId,
    sentinelStream: config.sentinel?.stream,
  });
}

export interface LoadedConfig {
  /** The path as messages name it. */
  label: string;
  settings: Settings;
}

/**
 * The config file: `--config`, else AZURE_EXEC_AUDIT_CONFIG, else ./azure-exec-audit.yaml when
 * there is one. A named file that does not exist is a usage error; no file is no settings.
 */
export function loadConfig(opts: {
  explicit?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  formats: readonly string[];
}): LoadedConfig | undefined {
  const fromEnv = opts.env[`${ENV_PREFIX}CONFIG`]?.trim();
  const named = opts.explicit ?? (fromEnv ? fromEnv : undefined);
  const label = named ?? CONFIG_FILE;
  const file = resolve(opts.cwd, label);
  if (named === undefined && !existsSync(file)) return undefined;
  const src = readYaml(file, label, "config file");
  // An empty file (or one of comments only) is an empty config.
  if (src.value === null || src.value === undefined) return { label, settings: {} };
  const config = validateYaml(configSchema(opts.formats), src, { missingHint: suppressionMissingHint });
  const inline = Array.isArray(config.suppressions) ? locateEntries(src, ["suppressions"], config.suppressions) : [];
  return { label, settings: settingsFromConfig(config, dirname(file), inline) };
}

/** Validates config text as `loadConfig` would (for `init`'s own check and tests). */
export function parseConfigText(text: string, label: string, formats: readonly string[]): Config {
  const src = parseYaml(text, label);
  if (src.value === null || src.value === undefined) return {};
  return validateYaml(configSchema(formats), src);
}
