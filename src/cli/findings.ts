/** `findings list | diff`: what the state store keeps between scans (docs/cli.md, "Findings lifecycle"). */

import type { ScanSession } from "../store/types.js";
import {
  DEFAULT_STATE_FILE,
  type FindingRow,
  type ListStatus,
  type ScanDiff,
  type StateReader,
} from "../store/types.js";
import { UsageError } from "../util/errors.js";
import { redactText } from "../util/redact.js";
import { cap, sanitizeForTerminal } from "../util/text.js";
import type { Io } from "./main.js";

export interface FindingsListFlags {
  state?: string;
  status?: ListStatus;
  format: string;
}

export interface FindingsDiffFlags {
  state?: string;
  since?: string;
  format: string;
}

/**
 * The state store's module, loaded only when state is on. It needs `node:sqlite` (Node.js 22.5 or
 * later): run on an older Node (the machine's own, not the project's), that is one sentence.
 */
export async function storeModule(): Promise<typeof import("../store/sqlite.js")> {
  try {
    return await import("../store/sqlite.js");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_UNKNOWN_BUILTIN_MODULE")
      throw new UsageError(
        `the state store needs Node.js 22.5 or later (node:sqlite); this is Node.js ${process.versions.node}: run azure-exec-audit through npx or npm in the project (they use its Node 24), or pass --no-state`,
      );
    throw e;
  }
}

/** The scan's hold on the state (loaded only when state is on). */
export async function openState(file: string): Promise<ScanSession> {
  const { openScanSession } = await storeModule();
  return openScanSession(file);
}

async function reader(file: string | undefined): Promise<StateReader> {
  const { openStateReader } = await storeModule();
  return openStateReader(file ?? DEFAULT_STATE_FILE);
}

const clean = (s: string, n: number): string => sanitizeForTerminal(cap(redactText(s), n));
const pad = (s: string, n: number): string =>
  Array.from(s).length > n
    ? `${Array.from(s)
        .slice(0, n - 1)
        .join("")}…`
    : s.padEnd(n);

/** `2026-11-19 02:38:30Z`: an ISO time in the 20 columns the table gives it. */
function displayTime(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(t);
  return m ? `${m[1]} ${m[2]}Z` : t;
}

function principal(r: FindingRow): string {
  const p = r.principal;
  return p.name ?? p.id ?? (p.appId ? `app ${p.appId}` : "unknown principal");
}

function shortResource(id: string): string {
  const parts = id.split("/").filter((p) => p.length > 0);
  return parts.length <= 2 ? parts.join("/") || id : parts.slice(-2).join("/");
}

function tableLines(rows: readonly FindingRow[]): string[] {
  const out = [
    `${pad("STATUS", 10)} ${pad("SEVERITY", 13)} ${pad("FIRST SEEN", 20)} ${pad("TITLE", 60)} ${pad("RESOURCE", 40)} PRINCIPAL`,
  ];
  for (const r of rows)
    out.push(
      `${pad(r.status, 10)} ${pad(r.severity, 13)} ${pad(clean(displayTime(r.firstSeen), 32), 20)} ${pad(clean(r.title, 256), 60)} ${pad(clean(shortResource(r.resourceId), 256), 40)} ${clean(principal(r), 128)}`,
    );
  return out;
}

export async function findingsList(flags: FindingsListFlags, io: Io): Promise<number> {
  const state = await reader(flags.state);
  try {
    const rows = state.findings(flags.status);
    if (flags.format === "json") {
      const scans = state.scans();
      io.stdout(
        `${JSON.stringify({ state: state.file, latestScan: scans.at(-1) ?? null, findings: rows }, null, 2)}\n`,
      );
      return 0;
    }
    if (rows.length === 0) {
      io.stdout(
        `No findings${flags.status ? ` with status ${flags.status}` : ""} in ${sanitizeForTerminal(state.file)}.\n`,
      );
      return 0;
    }
    io.stdout(`${tableLines(rows).join("\n")}\n`);
    return 0;
  } finally {
    state.close();
  }
}

function diffLines(d: ScanDiff): string[] {
  const scan = (s: ScanDiff["from"]): string =>
    `${clean(s.id, 128)} (${clean(s.startedAt, 32)}${s.complete ? "" : ", incomplete"})`;
  const out = [
    `from ${scan(d.from)}`,
    `to   ${scan(d.to)}`,
    `${d.added.length} new, ${d.resolved.length} resolved, ${d.notSeen.length} not seen (not resolved: the later scan could not see them), ${d.unchanged} unchanged`,
  ];
  const section = (title: string, rows: readonly FindingRow[]): void => {
    if (rows.length === 0) return;
    out.push("", `${title}:`, ...tableLines(rows).map((l) => `  ${l}`));
  };
  section("New", d.added);
  section("Resolved", d.resolved);
  section("Not seen", d.notSeen);
  return out;
}

export async function findingsDiff(flags: FindingsDiffFlags, io: Io): Promise<number> {
  const state = await reader(flags.state);
  try {
    const d = state.diff(flags.since);
    io.stdout(flags.format === "json" ? `${JSON.stringify(d, null, 2)}\n` : `${diffLines(d).join("\n")}\n`);
    return 0;
  } finally {
    state.close();
  }
}
