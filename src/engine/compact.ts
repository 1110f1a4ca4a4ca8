/**
 * The small copy of an Activity Log event that stages keep past the stream (a group's first
 * record, a correlation step): ids, time, operation, actor, resource — no raw object, claims or
 * properties, which are most of an event's memory.
 */
import type { ActivityEvent, Origin, Principal } from "../model/records.js";

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/**
 * Values that repeat across millions of events (operation names, subscriptions) are kept once:
 * every parsed event has its own copy of the string otherwise. Bounded: past it, no interning.
 */
const POOL_LIMIT = 20_000;

/** A bounded pool: `s` itself, or the equal string kept before it. */
export interface Interner {
  (s: string): string;
  (s: string | undefined): string | undefined;
}

/** A pool of its own, so that many distinct values of one kind do not crowd out another's. */
export function interner(limit = POOL_LIMIT): Interner {
  const pool = new Map<string, string>();
  return ((s: string | undefined) => {
    if (s === undefined) return s;
    const hit = pool.get(s);
    if (hit !== undefined) return hit;
    if (pool.size < limit) pool.set(s, s);
    return s;
  }) as Interner;
}

/** Names, subscriptions, resource ids, paths, addresses. */
export const intern: Interner = interner();

/**
 * One object per distinct principal: a few hundred identities act in millions of events, and a
 * record parsed in a worker thread arrives with its own copy. Compact records never change their
 * principal, so sharing it is safe. Bounded like the pool.
 */
const principals = new Map<string, Principal>();
export function internPrincipal(p: Principal): Principal {
  const key = `${p.id ?? ""}\u001f${p.name ?? ""}\u001f${p.type ?? ""}\u001f${p.appId ?? ""}`;
  const hit = principals.get(key);
  if (hit !== undefined) return hit;
  if (principals.size < POOL_LIMIT) principals.set(key, p);
  return p;
}

/*
 * Every optional field is written in the object literal, undefined when absent: a property added
 * after the literal lives in a separate backing store (a PropertyArray, 16 bytes and a slot per
 * property), which for the hundreds of thousands of kept objects was 15 MB of a 163 MB heap.
 * JSON and the report writer leave undefined out, as for an absent field.
 */

/** The origin with its file and shape kept once (each record parsed in a worker has its own copy of the path). */
function compactOrigin(o: Origin): Origin {
  return { shape: intern(o.shape), location: intern(o.location), index: o.index, element: o.element };
}

export function compactActivity(e: ActivityEvent): ActivityEvent {
  return {
    kind: "activity",
    id: e.id,
    time: e.time,
    operationName: intern(e.operationName),
    operation: intern(e.operation),
    principal: internPrincipal(e.principal),
    claims: EMPTY,
    properties: EMPTY,
    origin: compactOrigin(e.origin),
    raw: undefined,
    eventDataId: e.eventDataId || undefined,
    correlationId: e.correlationId || undefined,
    status: intern(e.status || undefined),
    resourceId: intern(e.resourceId || undefined),
    subscriptionId: intern(e.subscriptionId || undefined),
    // A caller acts from a few addresses: one string each, not one per record.
    callerIpAddress: intern(e.callerIpAddress || undefined),
  };
}
