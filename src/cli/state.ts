/** `state prune`: retention on demand (docs/cli.md, "Retention"). */

import { parseDuration } from "../sigma/duration.js";
import { DEFAULT_STATE_FILE } from "../store/types.js";
import { UsageError } from "../util/errors.js";
import { sanitizeForTerminal } from "../util/text.js";
import { storeModule } from "./findings.js";
import { type Io, testPause } from "./main.js";

export interface StatePruneFlags {
  state?: string;
  olderThan?: string;
  dryRun?: boolean;
}

function megabytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export async function statePrune(flags: StatePruneFlags, io: Io): Promise<number> {
  const { RETENTION, openPruneSession, stateSize } = await storeModule();
  const given = flags.olderThan;
  const olderThanMs = given === undefined ? RETENTION.days * 86_400_000 : parseDuration(given);
  if (olderThanMs === undefined)
    throw new UsageError(
      `--older-than ${sanitizeForTerminal(given ?? "")} is not a duration: use a number and a unit (s, m, h, d, w), e.g. 30d`,
    );
  const file = flags.state ?? DEFAULT_STATE_FILE;
  const session = openPruneSession(file);
  const before = stateSize(file);
  let counts: ReturnType<typeof session.prune>;
  try {
    counts = session.prune(olderThanMs);
    if (flags.dryRun) session.abandon();
    else {
      await testPause("pruned", io);
      session.commit();
    }
  } finally {
    session.abandon();
  }
  const after = stateSize(file);
  const age = given ?? `${RETENTION.days}d`;
  const verb = flags.dryRun ? "would remove" : "removed";
  io.stdout(
    `${[
      `${sanitizeForTerminal(file)}: ${verb} what is older than ${sanitizeForTerminal(age)} (the last ${RETENTION.minScans} scans, open and suppressed findings and the scans they name are always kept):`,
      `  ${counts.scans} scans, ${counts.findingRows} per-scan finding rows, ${counts.resolvedFindings} resolved findings, ${counts.digests} digest-cache entries, ${counts.writers} resource writers, ${counts.watermarks} watermarks`,
      flags.dryRun
        ? `  size ${megabytes(before)} (unchanged: --dry-run)`
        : `  size ${megabytes(before)} -> ${megabytes(after)}`,
    ].join("\n")}\n`,
  );
  return 0;
}
