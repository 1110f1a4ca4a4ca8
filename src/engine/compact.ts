/**
 * The small copy of an Activity Log event that stages keep past the stream (a group's first
 * record, a correlation step): ids, time, operation, actor, resource — no raw object, claims or
 * properties, which are most of an event's memory.
 */
import type { ActivityEvent } from "../model/records.js";

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Values that repeat across millions of events (operation names, subscriptions) are kept once:
 * every parsed event has its own copy of the string otherwise. Bounded: past it, no interning.
 */
const POOL_LIMIT = 20_000;
const pool = new Map<string, string>();
function intern(s: string): string;
function intern(s: string | undefined): string | undefined;
function intern(s: string | undefined): string | undefined {
  if (s === undefined) return s;
  const hit = pool.get(s);
  if (hit !== undefined) return hit;
  if (pool.size < POOL_LIMIT) pool.set(s, s);
  return s;
}

export function compactActivity(e: ActivityEvent): ActivityEvent {
  const c: ActivityEvent = {
    kind: "activity",
    id: e.id,
    time: e.time,
    operationName: intern(e.operationName),
    operation: intern(e.operation),
    principal: e.principal,
    claims: EMPTY,
    properties: EMPTY,
    origin: e.origin,
    raw: undefined,
  };
  if (e.eventDataId) c.eventDataId = e.eventDataId;
  if (e.correlationId) c.correlationId = e.correlationId;
  if (e.status) c.status = intern(e.status);
  if (e.resourceId) c.resourceId = e.resourceId;
  if (e.subscriptionId) c.subscriptionId = intern(e.subscriptionId);
  if (e.callerIpAddress) c.callerIpAddress = e.callerIpAddress;
  return c;
}
