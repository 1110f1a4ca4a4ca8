/**
 * One-change variants of Activity Log records (derived here, labelled as derived in
 * test/fixtures/reference/activity-shapes/SOURCES.md): each is a way real pipelines and tools
 * write the same event. They are applied to Microsoft's own samples (activity-shapes.test.ts,
 * field for field) and to every event of the demo tenant (test/scan/variants.test.ts: the same
 * findings, with and without the pre-filter).
 */
type Json = Record<string, unknown>;

export interface Variant {
  id: string;
  /** The one change, as SOURCES.md lists it. */
  change: string;
  /** Export (diagnostic settings) records, REST records, or both. */
  shapes: readonly ("export" | "rest")[];
  apply(record: Json): unknown;
}

/** The record with one member renamed, in its place. */
export function rename(o: Json, from: string, to: string): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) out[k === from ? to : k] = v;
  return out;
}

/** An ISO UTC time written with a +02:00 offset (the same instant). */
export function withOffset(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(t);
  if (!m) throw new Error(`not ISO UTC: ${t}`);
  const shifted = new Date(Date.parse(`${m[1]}Z`) + 2 * 3600_000).toISOString().slice(0, 19);
  return `${shifted}${m[2] ?? ""}+02:00`;
}

const timeKey = (r: Json) => ("time" in r ? "time" : "eventTimestamp");

export const VARIANTS: readonly Variant[] = [
  {
    id: "time-case",
    change: "the time member spelled with a capital (`Time`, `EventTimestamp`)",
    shapes: ["export", "rest"],
    apply: (r) => rename(r, timeKey(r), timeKey(r) === "time" ? "Time" : "EventTimestamp"),
  },
  {
    id: "operationName-case",
    change: "`operationName` spelled `OperationName`",
    shapes: ["export", "rest"],
    apply: (r) => rename(r, "operationName", "OperationName"),
  },
  {
    id: "resourceId-case",
    change: "`resourceId` spelled `ResourceId`",
    shapes: ["export", "rest"],
    apply: (r) => rename(r, "resourceId", "ResourceId"),
  },
  {
    id: "callerIpAddress-case",
    change: "`callerIpAddress` spelled `CallerIPAddress` (export)",
    shapes: ["export"],
    apply: (r) => rename(r, "callerIpAddress", "CallerIPAddress"),
  },
  {
    id: "properties-text",
    change: "`properties` as JSON text (as the AzureActivity `Properties` column holds it)",
    shapes: ["export", "rest"],
    apply: (r) => ({ ...r, properties: JSON.stringify(r.properties ?? {}) }),
  },
  {
    id: "identity-text",
    change: "`identity` as JSON text (export)",
    shapes: ["export"],
    apply: (r) => ({ ...r, identity: JSON.stringify(r.identity ?? {}) }),
  },
  {
    id: "claims-text",
    change: "the claims as JSON text (`identity.claims` in exports, `claims` in REST)",
    shapes: ["export", "rest"],
    apply: (r) =>
      "identity" in r
        ? { ...r, identity: { ...(r.identity as Json), claims: JSON.stringify((r.identity as Json).claims ?? {}) } }
        : { ...r, claims: JSON.stringify(r.claims ?? {}) },
  },
  {
    id: "operationName-pair",
    change: "an export record's `operationName` as the REST `{value, localizedValue}`",
    shapes: ["export"],
    apply: (r) => ({ ...r, operationName: { value: r.operationName, localizedValue: r.operationName } }),
  },
  {
    id: "eventTimestamp-in-export",
    change: "an export record with `eventTimestamp` instead of `time`",
    shapes: ["export"],
    apply: (r) => rename(r, "time", "eventTimestamp"),
  },
  {
    id: "time-offset",
    change: "the time with a `+02:00` offset instead of `Z` (the same instant)",
    shapes: ["export", "rest"],
    apply: (r) => ({ ...r, [timeKey(r)]: withOffset(r[timeKey(r)] as string) }),
  },
  {
    id: "time-space-no-zone",
    change: "the time as Log Analytics exports print it: a space for `T`, no zone (UTC)",
    shapes: ["export", "rest"],
    apply: (r) => ({ ...r, [timeKey(r)]: (r[timeKey(r)] as string).replace("T", " ").replace(/Z$/, "") }),
  },
  {
    id: "record-in-message-text",
    change: "the record as JSON text in a wrapper's `message` member",
    shapes: ["export", "rest"],
    apply: (r) => ({ message: JSON.stringify(r) }),
  },
  {
    id: "record-as-json-string",
    change: "the record as one JSON string (a line that is a quoted document)",
    shapes: ["export", "rest"],
    apply: (r) => JSON.stringify(r),
  },
  {
    id: "body-envelope",
    change: "the record under `body` (an Event Hub message as a consumer keeps it)",
    shapes: ["export", "rest"],
    apply: (r) => ({ body: r }),
  },
  {
    id: "records-case",
    change: "a one-record batch under `Records`",
    shapes: ["export", "rest"],
    apply: (r) => ({ Records: [r] }),
  },
];
