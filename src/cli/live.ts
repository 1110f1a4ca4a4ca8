/**
 * The live half of `scan`: from the flags, the session (credential, cloud), the scope
 * (subscriptions) and the collectors that read Azure. Kept apart from main.ts so the files path
 * stays as it was; each collector is its own folder under src/collectors/.
 */

import { LiveScope } from "../azure/live/scope.js";
import type { AuthMode, AzureSession, CloudName } from "../azure/live/session.js";
import { AUTH_MODES, CLOUDS, createSession } from "../azure/live/session.js";
import { ActivityLogCollector, type LiveWindow } from "../collectors/activity-log/index.js";
import { AppServiceCollector } from "../collectors/app-service/index.js";
import { ArchiveCollector } from "../collectors/archive/index.js";
import { parseArchiveUrl } from "../collectors/archive/url.js";
import { RbacCollector } from "../collectors/rbac/index.js";
import { RegistryCollector } from "../collectors/registry/index.js";
import { MAX_LAYER_UNCOMPRESSED } from "../collectors/registry/layers.js";
import { ResourcesCollector } from "../collectors/resources/index.js";
import type { Collector, ResumePoint } from "../collectors/types.js";
import { WorkspaceCollector } from "../collectors/workspace/index.js";
import { parseDuration } from "../sigma/duration.js";
import type { DigestCache } from "../store/digest-cache.js";
import { UsageError } from "../util/errors.js";
import { DEFAULT_LOOKBACK, hasScope, type LiveFlags, MAX_LOOKBACK_MS } from "./live-flags.js";

export { DEFAULT_LOOKBACK, isLive, type LiveFlags, MAX_LOOKBACK_MS } from "./live-flags.js";

/** A point in time: an ISO-8601 date or time, or a duration back from now (7d, 24h, 90m). */
function instant(flag: string, value: string, now: Date): Date {
  const back = parseDuration(value);
  if (back !== undefined) return new Date(now.getTime() - back);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new UsageError(
    `${flag} takes a duration back from now (7d, 24h, 90m) or an ISO date (2026-11-20T00:00:00Z), got '${value}'`,
  );
}

/**
 * The window from --since/--until. The Activity Log API keeps 90 days; a workspace or an archive
 * keeps what its retention says, so the 90-day bound holds only when the API is read.
 */
export function liveWindow(f: LiveFlags, now: Date, bounded = true): LiveWindow {
  const until = f.until ? instant("--until", f.until, now) : now;
  const since = instant("--since", f.since ?? DEFAULT_LOOKBACK, now);
  if (until.getTime() > now.getTime() + 60_000) throw new UsageError("--until is in the future");
  if (since.getTime() >= until.getTime()) throw new UsageError("--since must be before --until");
  if (bounded && now.getTime() - since.getTime() > MAX_LOOKBACK_MS + 60_000)
    throw new UsageError(
      "--since reaches more than 90 days back; the Activity Log keeps 90 days (read a longer window with --workspace or --archive)",
    );
  return { since, until };
}

/** --max-layer-bytes: bytes, or a number of KiB / MiB (`512KiB`, `4MiB`); 0 reads no layer. */
export function layerBytes(value: string): number {
  const m = /^(\d+)[ \t]*(k|kb|kib|m|mb|mib)?$/i.exec(value.trim());
  const n = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase().startsWith("k") ? 1024 : 1024 * 1024) : 1) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_LAYER_UNCOMPRESSED)
    throw new UsageError(
      `--max-layer-bytes takes a size up to 64MiB (bytes, or with KiB or MiB: 4MiB), got '${value}'`,
    );
  return n;
}

export interface Live {
  session: AzureSession;
  /** The subscriptions to read, when a scope was named. */
  scope?: LiveScope;
  collectors: Collector[];
  /** Whether anything reads with a token (false: only an archive read through its SAS). */
  signsIn: boolean;
  /** The Activity Log window from --since/--until (before any scope resumes from its watermark). */
  window: LiveWindow;
}

/**
 * `cache`: the digest cache registries share (the state store's when state is on). `resume`:
 * incremental scans, where each scope of a windowed source resumes (its watermark minus the
 * overlap); the Activity Log API still reads at most 90 days back.
 */
export function liveCollectors(f: LiveFlags, now = new Date(), cache?: DigestCache, given?: ResumePoint): Live {
  if (f.auth !== undefined && !(AUTH_MODES as readonly string[]).includes(f.auth))
    throw new UsageError(`unknown --auth '${f.auth}' (use ${AUTH_MODES.join(", ")})`);
  if (f.cloud !== undefined && !(CLOUDS as readonly string[]).includes(f.cloud))
    throw new UsageError(
      `unknown --cloud '${f.cloud}' (use ${CLOUDS.join(", ")}, or --arm-endpoint for another cloud)`,
    );
  let maxConcurrency: number | undefined;
  if (f.maxConcurrency !== undefined) {
    maxConcurrency = Number(f.maxConcurrency);
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 64)
      throw new UsageError(`--max-concurrency must be a whole number from 1 to 64, got '${f.maxConcurrency}'`);
  }
  const maxLayerBytes = f.maxLayerBytes === undefined ? undefined : layerBytes(f.maxLayerBytes);
  if (f.workspace !== undefined && f.archive !== undefined)
    throw new UsageError("use either --workspace or --archive for the Activity Log, not both");
  // A custom cloud has its own Log Analytics host; falling back to the public one would send the
  // custom cloud's token to a host that is not its own, and wait on it.
  if (f.workspace !== undefined && f.armEndpoint !== undefined && f.logsEndpoint === undefined)
    throw new UsageError(
      "--workspace with --arm-endpoint (a custom cloud) needs --logs-endpoint, that cloud's Log Analytics query endpoint (https://…/v1; the emulator prints it as logsEndpoint)",
    );
  // The Activity Log comes from the workspace or the archive when one is named, else the API.
  const fromApi = f.workspace === undefined && f.archive === undefined;
  const window = liveWindow(f, now, fromApi);
  const oldest = now.getTime() - MAX_LOOKBACK_MS;
  const resume: ResumePoint | undefined = given
    ? (source, scope) => {
        const r = given(source, scope);
        if (!r || source !== "activity-log" || r.since.getTime() >= oldest) return r;
        return { since: new Date(oldest), watermark: r.watermark };
      }
    : undefined;
  const session = createSession({
    ...(f.auth ? { auth: f.auth as AuthMode } : {}),
    ...(f.cloud ? { cloud: f.cloud as CloudName } : {}),
    ...(f.armEndpoint ? { armEndpoint: f.armEndpoint } : {}),
    ...(f.armAudience ? { armAudience: f.armAudience } : {}),
    ...(f.logsEndpoint ? { logsEndpoint: f.logsEndpoint } : {}),
    ...(maxConcurrency ? { maxConcurrency } : {}),
  });
  const scope = !hasScope(f)
    ? undefined
    : new LiveScope(session, {
        ...(f.subscription ? { subscriptions: f.subscription } : {}),
        ...(f.allSubscriptions ? { all: true } : {}),
        ...(f.managementGroup !== undefined ? { managementGroup: f.managementGroup } : {}),
      });
  const collectors: Collector[] = [];
  let signsIn = scope !== undefined;
  if (f.workspace !== undefined) {
    collectors.push(
      new WorkspaceCollector(f.workspace, {
        session,
        since: window.since,
        until: window.until,
        ...(resume ? { resume } : {}),
      }),
    );
    signsIn = true;
  }
  if (f.archive !== undefined) {
    const url = parseArchiveUrl(f.archive, now);
    collectors.push(
      new ArchiveCollector(f.archive, {
        since: window.since,
        until: window.until,
        ...(resume ? { resume } : {}),
        // Without a SAS token the container is read with the scan's sign-in.
        ...(url.sas ? {} : { credential: session.credential }),
        ...(f.subscription?.length ? { subscriptions: f.subscription } : {}),
      }),
    );
    if (!url.sas) signsIn = true;
  }
  if (scope) {
    if (fromApi) collectors.push(new ActivityLogCollector(session, scope, window, () => now, resume));
    collectors.push(
      new RbacCollector(session, scope),
      new AppServiceCollector(session, scope, { readAppSettings: !!f.readAppSettings }),
      new ResourcesCollector(session, scope),
      new RegistryCollector(session, scope, {
        ...(maxLayerBytes === undefined ? {} : { maxLayerBytes }),
        ...(cache ? { cache } : {}),
      }),
    );
  }
  return { session, scope, collectors, signsIn, window };
}
