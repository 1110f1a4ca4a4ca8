/**
 * When a finding that is gone may be called resolved. Absence is evidence only where the scan
 * looked: a finding is resolved only when this scan
 *   1. is complete (every source and scope read in full: an incomplete scan resolves nothing);
 *   2. read again, completely, every source and scope (coverage `source` + `scope`) that the
 *      scan which last saw the finding read — a narrower scan (fewer subscriptions, another
 *      input path) cannot see what it did not read;
 *   3. read records of every kind the finding's evidence points at (a snapshot without its
 *      role assignments says nothing about a role-assignment finding); and
 *   4. for findings made of events (Activity Log, first-seen, chains), read an Activity Log
 *      window that covers the finding's first to last occurrence: a shorter window would miss
 *      the events, not prove they are gone. An incremental scan that skipped events an earlier
 *      scan had read (its overlap) cannot tell an absent event from a skipped one: it resolves
 *      no finding made of events.
 */

import { DIAGNOSTIC_CODES } from "../model/diagnostics.js";
import type { CoverageEntry, EvidenceKind, Finding, ScanResult } from "../model/finding.js";
import type { ReadKinds } from "./types.js";

/** Sources whose coverage window dates Activity Log events. */
const EVENT_SOURCES = new Set(["files", "activity-log", "workspace", "archive"]);
const EVENT_EVIDENCE = new Set<EvidenceKind>(["activity", "firstSeen", "chain"]);

/** What the store keeps about a finding to judge its absence later. */
export interface AbsenceFacts {
  evidenceKind: EvidenceKind;
  /** Kinds of the records its evidence points at (`activity`, `resource`, …). */
  recordKinds: string[];
  /** First and last occurrence (the same for a finding with one). */
  time: string;
  lastTime: string;
}

export function absenceFacts(f: Finding): AbsenceFacts {
  const e = f.evidence;
  const kinds = new Set<string>(e.records.map((r) => r.kind));
  let lastTime = f.time;
  const later = (t: string | undefined): void => {
    if (t && Date.parse(t) > Date.parse(lastTime)) lastTime = t;
  };
  if (e.kind === "activity" || e.kind === "firstSeen") later(e.lastTime);
  if (e.kind === "chain") for (const s of e.steps) later(s.time);
  return { evidenceKind: e.kind, recordKinds: [...kinds].sort(), time: f.time, lastTime };
}

/** The record kinds a batch item stands for (a pre-filtered observation is an Activity Log event). */
export function readKind(kind: string): string {
  return kind === "observation" || kind === "observations" ? "activity" : kind;
}

const scopeKey = (c: CoverageEntry): string => `${c.source}\u001f${c.scope.toLowerCase()}`;

export function canResolve(
  facts: AbsenceFacts,
  lastSeenCoverage: readonly CoverageEntry[],
  result: ScanResult,
  read: ReadKinds,
): boolean {
  if (!result.complete) return false;
  const now = new Set(result.coverage.filter((c) => c.status === "complete").map(scopeKey));
  if (!lastSeenCoverage.every((c) => now.has(scopeKey(c)))) return false;
  if (!facts.recordKinds.every((k) => read.has(k))) return false;
  if (!EVENT_EVIDENCE.has(facts.evidenceKind)) return true;
  if (result.diagnostics.some((d) => d.code === DIAGNOSTIC_CODES.overlapSkipped)) return false;
  // Compared as instants: the same time may be written with or without milliseconds.
  const first = Date.parse(facts.time);
  const last = Date.parse(facts.lastTime);
  if (Number.isNaN(first) || Number.isNaN(last)) return false;
  return result.coverage.some(
    (c) =>
      EVENT_SOURCES.has(c.source) &&
      c.from !== undefined &&
      c.to !== undefined &&
      Date.parse(c.from) <= first &&
      Date.parse(c.to) >= last,
  );
}
