/**
 * The Sentinel export from the command line (docs/sentinel.md): `scan --sentinel-*` and
 * `export sentinel`. The Azure SDK (identity, monitor-ingestion) is loaded only when an export is
 * configured, so a scan without one starts as fast as before.
 *
 * With state, a scan's rows are enqueued in its transaction and flushed after its commit; rows
 * that were not accepted stay in the outbox for the next scan or `export sentinel`. Without
 * state there is no outbox: rows are sent directly and what failed is reported, not kept.
 */
import type { Command } from "commander";
import { loadConfig, mergeSettings, type Settings, settingsFromEnv } from "../config/index.js";
import type { RowSender } from "../exporters/sentinel/client.js";
import { flushOutbox, OUTBOX_EXPORTER, outboxItems, undeliveredMessage } from "../exporters/sentinel/deliver.js";
import { scanRows } from "../exporters/sentinel/rows.js";
import { SENTINEL_STREAM, SENTINEL_TABLE } from "../exporters/sentinel/schema.js";
import type { ScanResult } from "../model/finding.js";
import { formatNames } from "../outputs/index.js";
import { toolVersion } from "../paths.js";
import { DEFAULT_STATE_FILE, type ScanSession } from "../store/types.js";
import { UsageError } from "../util/errors.js";
import { sanitizeForTerminal } from "../util/text.js";
import { storeModule } from "./findings.js";
import type { Io } from "./main.js";

export interface SentinelFlags {
  sentinelEndpoint?: string;
  sentinelRuleId?: string;
  sentinelStream?: string;
  auth?: string;
  cloud?: string;
  armEndpoint?: string;
  armAudience?: string;
}

/** The token audience per named cloud (@azure/monitor-ingestion's KnownMonitorAudience). */
const AUDIENCE: Record<string, string> = {
  public: "https://monitor.azure.com",
  usgov: "https://monitor.azure.us",
  china: "https://monitor.azure.cn",
};

/** The scan's option group (commander attribute names match SentinelFlags). */
export function addSentinelOptions(cmd: Command): Command {
  return cmd
    .option(
      "--sentinel-endpoint <url>",
      "export findings to Microsoft Sentinel: the logs ingestion endpoint of the data collection rule (or its DCE)",
    )
    .option("--sentinel-rule-id <id>", "the data collection rule's immutable id (dcr-…)")
    .option("--sentinel-stream <name>", `the DCR's input stream (default ${SENTINEL_STREAM})`);
}

export interface SentinelTargetSettings {
  endpoint: string;
  ruleId: string;
  stream: string;
}

/** The target from the (merged) flags; undefined when no export is configured. */
export function sentinelTarget(f: SentinelFlags): SentinelTargetSettings | undefined {
  const { sentinelEndpoint: endpoint, sentinelRuleId: ruleId } = f;
  if (endpoint === undefined && ruleId === undefined && f.sentinelStream === undefined) return undefined;
  if (endpoint === undefined || ruleId === undefined)
    throw new UsageError(
      "the Sentinel export needs both --sentinel-endpoint (the DCR's logs ingestion endpoint) and --sentinel-rule-id (its immutable id, dcr-…); docs/sentinel.md shows where to read them",
    );
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--sentinel-endpoint must be an https:// URL, got '${sanitizeForTerminal(endpoint)}'`);
  }
  if (url.protocol !== "https:")
    throw new UsageError(`--sentinel-endpoint must be an https:// URL, got '${sanitizeForTerminal(endpoint)}'`);
  // Both go into the request path: nothing but the characters Azure uses for them.
  if (!/^[A-Za-z0-9-]{1,128}$/.test(ruleId))
    throw new UsageError(
      `--sentinel-rule-id takes the DCR's immutable id (dcr- and hex digits), got '${sanitizeForTerminal(ruleId)}'`,
    );
  const stream = f.sentinelStream ?? SENTINEL_STREAM;
  if (!/^Custom-[A-Za-z0-9_]{1,120}$/.test(stream))
    throw new UsageError(
      `--sentinel-stream takes a DCR stream name (Custom-<name>), got '${sanitizeForTerminal(stream)}'`,
    );
  return { endpoint: url.href.replace(/\/+$/, ""), ruleId, stream };
}

/** A configured export: the sender (signed in) and the tenant the rows are labelled with. */
export interface SentinelLink {
  target: SentinelTargetSettings;
  sender: RowSender;
  tenantId: string;
}

/**
 * Signs in with the scan's credential settings (--auth, --cloud, AZURE_AUTHORITY_HOST) for the
 * Monitor audience, before the scan reads anything: a credential that cannot get a token is one
 * sentence and exit 3, not a scan whose export fails at the end.
 */
export async function connectSentinel(
  target: SentinelTargetSettings,
  f: SentinelFlags,
  env: NodeJS.ProcessEnv,
): Promise<SentinelLink> {
  const [{ createSession }, { IngestionSender, tenantOfToken }] = await Promise.all([
    import("../azure/live/session.js"),
    import("../exporters/sentinel/client.js"),
  ]);
  const session = createSession({
    ...(f.auth ? { auth: f.auth as never } : {}),
    ...(f.cloud ? { cloud: f.cloud as never } : {}),
    ...(f.armEndpoint ? { armEndpoint: f.armEndpoint } : {}),
    ...(f.armAudience ? { armAudience: f.armAudience } : {}),
    env,
  });
  const audience = AUDIENCE[session.cloud.name] ?? AUDIENCE.public;
  let token: string;
  try {
    const t = await session.credential.getToken(`${audience}/.default`);
    if (!t) throw new Error("no token was returned");
    token = t.token;
  } catch (e) {
    throw new UsageError(
      `could not sign in with ${session.credentialName} for the Sentinel export (${audience}): ${sanitizeForTerminal(((e as Error).message ?? String(e)).split(/\r?\n/)[0] ?? "")}`,
    );
  }
  const sender = new IngestionSender(target, session.credential, { ...(audience ? { audience } : {}) });
  return { target, sender, tenantId: tenantOfToken(token) ?? "" };
}

/** In the scan's transaction, after `apply`: this scan's rows into the outbox. */
export function enqueueScan(state: ScanSession, result: ScanResult, link: SentinelLink): number {
  const rows = scanRows(result, {
    id: result.id,
    finishedAt: result.finishedAt,
    toolVersion: toolVersion(),
    tenantId: link.tenantId,
  });
  state.enqueue(OUTBOX_EXPORTER, outboxItems(rows));
  return rows.length;
}

export interface Delivery {
  ok: boolean;
  delivered: number;
  remaining: number;
}

/** Flushes a state file's outbox; says on stderr what was not delivered. */
async function flushFile(file: string, link: SentinelLink, io: Io, afterSend?: () => Promise<void>): Promise<Delivery> {
  const { openOutbox } = await storeModule();
  const outbox = openOutbox(file);
  try {
    const report = await flushOutbox(outbox, link.sender, afterSend ? { afterSend } : {});
    if (report.remaining > 0)
      io.stderr(
        `azure-exec-audit: ${sanitizeForTerminal(undeliveredMessage(report.remaining, file, report.lastError))}\n`,
      );
    return { ok: report.remaining === 0, delivered: report.delivered, remaining: report.remaining };
  } finally {
    outbox.close();
  }
}

/**
 * After the scan (and its commit): with state, the outbox is flushed (this scan's rows and any an
 * earlier run left); without, the findings are sent directly.
 */
export async function deliverScan(
  link: SentinelLink,
  stateFile: string | undefined,
  result: ScanResult,
  io: Io,
  afterSend?: () => Promise<void>,
): Promise<Delivery> {
  try {
    if (stateFile !== undefined) return await flushFile(stateFile, link, io, afterSend);
    const rows = scanRows(
      { findings: result.findings, rules: result.rules },
      { id: result.id, finishedAt: result.finishedAt, toolVersion: toolVersion(), tenantId: link.tenantId },
    );
    const out = await link.sender.upload(rows);
    if (out.failed.length > 0)
      io.stderr(
        `azure-exec-audit: ${out.failed.length} of ${rows.length} row(s) for ${SENTINEL_TABLE} were not delivered (${sanitizeForTerminal(out.failed[0]?.reason ?? "")}) and are not kept: a scan with --no-state has no outbox; scan with state to have them retried\n`,
      );
    return { ok: out.failed.length === 0, delivered: out.accepted.length, remaining: out.failed.length };
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`azure-exec-audit: the Sentinel export failed: ${e.message}\n`);
      return { ok: false, delivered: 0, remaining: -1 };
    }
    throw e;
  }
}

export interface ExportSentinelFlags extends SentinelFlags {
  state?: string;
  config?: string;
}

/** `export sentinel`: flushes the outbox. 0 when nothing waits afterwards, 2 when rows do. */
export async function exportSentinel(flags: ExportSentinelFlags, io: Io, cmd: Command): Promise<number> {
  const env = io.env ?? process.env;
  const cli: Settings = {};
  for (const key of ["sentinelEndpoint", "sentinelRuleId", "sentinelStream", "state"] as const)
    if (cmd.getOptionValueSource(key) === "cli") (cli as Record<string, unknown>)[key] = flags[key];
  const file = loadConfig({ explicit: flags.config, env, cwd: io.cwd ?? process.cwd(), formats: formatNames() });
  const merged = mergeSettings(cli, settingsFromEnv(env, formatNames()), file?.settings ?? {});
  if (merged.state === false)
    throw new UsageError("export sentinel sends what a state file's outbox holds: pass --state <file>");
  const target = sentinelTarget({ ...flags, ...merged });
  if (!target)
    throw new UsageError(
      "export sentinel needs --sentinel-endpoint and --sentinel-rule-id (or sentinel.endpoint and sentinel.ruleId in the config file, or AZURE_EXEC_AUDIT_SENTINEL_ENDPOINT and _RULE_ID)",
    );
  const stateFile = merged.state ?? DEFAULT_STATE_FILE;
  // Checked before signing in: a wrong path, or nothing to send, costs no token.
  const { openOutbox } = await storeModule();
  const outbox = openOutbox(stateFile);
  const waiting = outbox.waiting(OUTBOX_EXPORTER).rows;
  outbox.close();
  if (waiting === 0) {
    io.stdout(`${sanitizeForTerminal(stateFile)}: nothing waits in the outbox for ${SENTINEL_TABLE}\n`);
    return 0;
  }
  const link = await connectSentinel(target, flags, env);
  const d = await flushFile(stateFile, link, io);
  io.stdout(
    `${sanitizeForTerminal(stateFile)}: delivered ${d.delivered} row(s) to ${SENTINEL_TABLE}; ${d.remaining} wait in the outbox\n`,
  );
  return d.ok ? 0 : 2;
}
