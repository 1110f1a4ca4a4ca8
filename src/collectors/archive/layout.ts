/**
 * Where a diagnostic setting writes the Activity Log in its storage account. Source:
 * MicrosoftDocs/azure-monitor-docs, articles/azure-monitor/platform/activity-log.md ("Send to
 * Azure Storage"):
 *
 *   insights-activity-logs/resourceId=/SUBSCRIPTIONS/{subscription ID}/y={four-digit numeric year}/
 *     m={two-digit numeric month}/d={two-digit numeric day}/h={two-digit 24-hour clock hour}/m=00/PT1H.json
 *
 * "Each PT1H.json blob contains … events … that were received during the hour specified in the
 * blob URL … regardless of when they were generated", and the minute is always 00. So the hour in
 * a name is when events arrived, not when they happened: an event late in one hour can land in the
 * next hour's blob, which is why the reader looks `lateHours` past the end of the window.
 */

export const SUBSCRIPTIONS_PREFIX = "resourceId=/SUBSCRIPTIONS/";

const HOUR_MS = 3_600_000;

const BLOB_NAME = /^resourceId=\/SUBSCRIPTIONS\/([^/]+)\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\/m=00\/PT1H\.json$/;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The folder of one subscription, spelled as the container spells it. */
export function subscriptionPrefix(sub: string): string {
  return `${SUBSCRIPTIONS_PREFIX}${sub}/`;
}

function dayPart(t: Date): string {
  return `y=${t.getUTCFullYear()}/m=${two(t.getUTCMonth() + 1)}/d=${two(t.getUTCDate())}/`;
}

/** The blob prefix of one hour (`…/y=2026/m=10/d=23/h=08/`). */
export function hourPrefix(sub: string, hourStart: number): string {
  const t = new Date(hourStart);
  return `${subscriptionPrefix(sub)}${dayPart(t)}h=${two(t.getUTCHours())}/`;
}

/** The blob an hour's events are in. */
export function hourBlob(sub: string, hourStart: number): string {
  return `${hourPrefix(sub, hourStart)}m=00/PT1H.json`;
}

/** The start (ms) of the hour a blob name is for, and its subscription folder; undefined for other names. */
export function parseBlobName(name: string): { sub: string; hourStart: number } | undefined {
  const m = BLOB_NAME.exec(name);
  if (!m) return undefined;
  const [, sub, y, mo, d, h] = m as unknown as [string, string, string, string, string, string];
  const hourStart = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h));
  const t = new Date(hourStart);
  // y=2026/m=02/d=30 is no hour at all.
  if (t.getUTCDate() !== Number(d) || t.getUTCHours() !== Number(h) || t.getUTCMonth() !== Number(mo) - 1) {
    return undefined;
  }
  return { sub, hourStart };
}

/** The hours (their starts, ms) whose blobs can hold events of [since, until]. */
export function windowHours(since: Date, until: Date, lateHours: number, now?: Date): number[] {
  const first = Math.floor(since.getTime() / HOUR_MS) * HOUR_MS;
  let last = Math.floor(until.getTime() / HOUR_MS) * HOUR_MS + lateHours * HOUR_MS;
  // Blobs of hours that have not begun do not exist yet.
  if (now) last = Math.min(last, Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const out: number[] = [];
  for (let h = first; h <= last; h += HOUR_MS) out.push(h);
  return out;
}

/**
 * Listing prefixes covering exactly `hours`: a whole day is one prefix (`…/d=23/`), a day the
 * window covers in part is one prefix per hour (`…/d=23/h=08/`). Nothing outside the hours is
 * listed, and a month of hours costs about thirty listings, not seven hundred.
 */
export function listingPrefixes(sub: string, hours: readonly number[]): string[] {
  const byDay = new Map<number, number[]>();
  for (const h of hours) {
    const day = Math.floor(h / (24 * HOUR_MS)) * 24 * HOUR_MS;
    const list = byDay.get(day) ?? [];
    list.push(h);
    byDay.set(day, list);
  }
  const out: string[] = [];
  for (const [day, hs] of byDay) {
    if (hs.length === 24) out.push(`${subscriptionPrefix(sub)}${dayPart(new Date(day))}`);
    else for (const h of hs) out.push(hourPrefix(sub, h));
  }
  return out;
}
