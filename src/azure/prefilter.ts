/**
 * The pre-filter for a rule set: which Activity Log operations must be parsed (every operation a
 * loaded rule, a rule feeding a correlation, or attribution reads), and whether every scan-wide
 * stage can make do with the lean fields of the rest. When a loaded rule could match any
 * operation, or a first-seen rule keys on a field the lean reader does not give, there is no
 * pre-filter and every line is parsed: slower, never different.
 */
import type { LineFilter, Pushdown } from "../collectors/types.js";
import { firstSeenTuples } from "../engine/engine.js";
import { FirstSeenStage } from "../engine/firstseen.js";
import {
  DEFAULT_LIMITS,
  type EngineLimits,
  foldHash,
  MemoryState,
  type PartHash,
  partHash,
  partHashBytes,
} from "../engine/state.js";
import type { ActivityEvent, ActivityObservation, LineRef, ObservationShare } from "../model/records.js";
import { builtModule } from "../paths.js";
import type { EngineRule, ResolvedCorrelation } from "../rules/loader.js";
import { Attribution, isWrite } from "./enrich/attribution.js";
import { ipPrefix, topResource } from "./fields.js";
import { F_APP, F_IP, F_OID, F_OP, F_RESOURCE, F_TIME, LeanReader, leanActivity } from "./normalize/lean.js";

/** Operations attribution reads in full whatever the rules (image imports name their source). */
const ALWAYS_PARSED = ["microsoft.containerregistry/registries/importimage/action"];

/** Fields a first-seen tuple can use on an observation, lower-cased as tuple keys are. */
export const LEAN_TUPLE_FIELDS: Readonly<Record<string, (o: ActivityObservation) => string | undefined>> = {
  "principal.id": (o) => o.principalId,
  "principal.appid": (o) => o.appId,
  calleripprefix: (o) => ipPrefix(o.callerIpAddress),
  topresourceid: (o) => topResource(o.resourceId),
  operationname: (o) => o.operation,
  operationnamevalue: (o) => o.operation,
};

/**
 * The same fields hashed straight from a line's bytes (what a worker thread does with the lines
 * it clears): into `out`, or false when the line has no such value. Each gives the partHash of
 * what LEAN_TUPLE_FIELDS gives (a test checks the two agree over every line of a corpus).
 */
type SpanHash = (r: LeanReader, out: PartHash) => boolean;

const spanHash =
  (f: number): SpanHash =>
  (r, out) => {
    const s = r.span[f] as number;
    const e = r.span[f + 1] as number;
    if (s < 0 || e <= s) return false;
    partHashBytes(out, r.bytes, s, e);
    return true;
  };

const fromString =
  (get: (text: string) => string | undefined, f: number) =>
  (r: LeanReader, out: PartHash): boolean => {
    const text = r.text(f);
    const v = text === undefined ? undefined : get(text);
    if (!v) return false;
    const h = partHash(v);
    out.a = h.a;
    out.b = h.b;
    return true;
  };

const ipPrefixString = fromString(ipPrefix, F_IP);
const topResourceString = fromString(topResource, F_RESOURCE);

export const LEAN_TUPLE_BYTES: Readonly<Record<string, SpanHash>> = {
  "principal.id": spanHash(F_OID),
  "principal.appid": spanHash(F_APP),
  calleripprefix: (r, out) => {
    const s = r.span[F_IP] as number;
    const e = r.span[F_IP + 1] as number;
    if (s < 0 || e <= s) return false;
    // IPv4 a.b.c.d → a.b.c.0/24 from the bytes; anything else the string way.
    const cut = ipv4PrefixEnd(r.bytes, s, e);
    if (cut < 0) return ipPrefixString(r, out);
    partHashBytes(out, r.bytes, s, cut, "0/24");
    return true;
  },
  topresourceid: (r, out) => {
    const s = r.span[F_RESOURCE] as number;
    const e = r.span[F_RESOURCE + 1] as number;
    if (s < 0 || e <= s) return false;
    const cut = topResourceEnd(r.bytes, s, e);
    if (cut < 0) return topResourceString(r, out);
    partHashBytes(out, r.bytes, s, cut);
    return true;
  },
  operationname: spanHash(F_OP),
  operationnamevalue: spanHash(F_OP),
};

/** For a.b.c.d (1–3 digits each) the end of "a.b.c.", else -1. */
function ipv4PrefixEnd(b: Uint8Array, s: number, e: number): number {
  let i = s;
  let cut = -1;
  for (let group = 0; group < 4; group++) {
    const from = i;
    while (i < e && (b[i] as number) >= 48 && (b[i] as number) <= 57) i++;
    if (i === from || i - from > 3) return -1;
    if (group < 3) {
      if (b[i] !== 46 /* . */) return -1;
      i++;
      if (group === 2) cut = i;
    }
  }
  return i === e ? cut : -1;
}

const PROVIDERS = Buffer.from("/providers/", "latin1");

/**
 * Where topResource's prefix ends — the first `/providers/` followed by three non-empty segments,
 * case-insensitively, as its regular expression takes it — or -1 to let the string way decide.
 */
function topResourceEnd(b: Uint8Array, s: number, e: number): number {
  for (let i = s; i + PROVIDERS.length <= e; i++) {
    if (b[i] !== 47 /* / */) continue;
    let k = 0;
    while (k < PROVIDERS.length && ((b[i + k] as number) | 0x20) === ((PROVIDERS[k] as number) | 0x20)) k++;
    if (k < PROVIDERS.length) continue;
    let j = i + PROVIDERS.length;
    let segments = 0;
    while (segments < 3) {
      const from = j;
      while (j < e && b[j] !== 47) j++;
      if (j === from) break;
      segments++;
      if (segments < 3) {
        if (j >= e) break;
        j++;
      }
    }
    if (segments === 3) return j;
  }
  // No such prefix: the whole id (rare; the string way is exact).
  return -1;
}

const REGISTRY_PATH = Buffer.from("/providers/microsoft.containerregistry/registries/", "latin1");

/** Whether bytes[s, e) contains REGISTRY_PATH, case-insensitively (letters and punctuation only). */
function namesRegistry(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i + REGISTRY_PATH.length <= e; i++) {
    if (b[i] !== 47) continue;
    let k = 1;
    while (k < REGISTRY_PATH.length && ((b[i + k] as number) | 0x20) === (REGISTRY_PATH[k] as number)) k++;
    if (k === REGISTRY_PATH.length) return true;
  }
  return false;
}

export interface Prefilter {
  filter?: LineFilter;
  /** The filter as plain data, for a source that filters on its side (given with `filter`). */
  pushdown?: Pushdown;
  /** Why every line is parsed, when it is. */
  disabled?: string;
}

export function prefilterFor(
  rules: readonly EngineRule[],
  limits: Partial<EngineLimits> = {},
  correlations: readonly Pick<ResolvedCorrelation, "id" | "title" | "ext">[] = [],
): Prefilter {
  const ops = new Set(ALWAYS_PARSED);
  for (const r of rules) {
    if (r.kind !== "activity") continue;
    if (!r.operations) return { disabled: `rule ${r.id} (${r.title}) can match any operation` };
    for (const op of r.operations) ops.add(op);
    for (const f of r.ext.firstseen?.fields ?? []) {
      if (!LEAN_TUPLE_FIELDS[f.toLowerCase()]) {
        return { disabled: `first-seen rule ${r.id} (${r.title}) keys on ${f}, which is read only by parsing` };
      }
    }
  }
  for (const c of correlations) {
    for (const f of c.ext.steps?.newFor ?? []) {
      if (!LEAN_TUPLE_FIELDS[f.toLowerCase()]) {
        return { disabled: `correlation ${c.id} (${c.title}) judges its steps by ${f}, which is read only by parsing` };
      }
    }
  }
  const l = { ...DEFAULT_LIMITS, ...limits };
  const options: FilterOptions = {
    ops: [...ops],
    tuples: firstSeenTuples(rules, correlations),
    baselineKeys: l.baselineKeys,
    writers: l.writers,
  };
  return {
    filter: createLineFilter(options),
    pushdown: {
      operations: options.ops,
      firstSeen: options.tuples,
      limits: { baselineKeys: l.baselineKeys, writers: l.writers },
    },
  };
}

/** Plain data a worker thread rebuilds the filter and its aggregator from. */
interface FilterOptions {
  ops: string[];
  tuples: string[][];
  baselineKeys: number;
  writers: number;
}

/** The filter for a list of operations to parse; also what a worker thread builds it with. */
export function createLineFilter(options: unknown): LineFilter {
  const o = options as FilterOptions;
  const ops = new Set(o.ops);
  return {
    observe: (bytes, start, end) => leanActivity(bytes, start, end, ops),
    worker: { module: builtModule(import.meta.url).href, options: o },
  };
}

/**
 * What a worker thread does with the observations of its range: applies them to first-seen
 * baselines and attribution of its own, and hands back the share for the main thread to merge.
 */
export function createAggregator(options: unknown): LineAggregator {
  const o = options as FilterOptions;
  const state = new MemoryState();
  const firstSeen = new FirstSeenStage(o.tuples, state, o.baselineKeys);
  const attribution = new Attribution(state.writers(), o.writers);
  const reader = new LeanReader(new Set(o.ops));
  const hashers = firstSeen.fieldNames.map((f) => LEAN_TUPLE_BYTES[f]);
  const slots: PartHash[] = hashers.map(() => ({ a: 0, b: 0 }));
  const present: (PartHash | undefined)[] = hashers.map(() => undefined);
  const resource: PartHash = { a: 0, b: 0 };
  /** One observation reused for every parsed record (observeLean keeps nothing of it). */
  const parsed: ActivityObservation = { kind: "observation", time: "", operation: "", at: NO_LINE };
  const agg: LineAggregator = {
    observed: 0,
    add(obs) {
      firstSeen.observeLean(obs);
      attribution.observeLean(obs);
      agg.observed++;
      widen(agg, obs.time);
    },
    addParsed(r) {
      // The tuple fields of a parsed record, as the engine's view gives them (principal.id is the
      // normaliser's, which also falls back to evidence and the caller). Not counted: the record
      // itself goes to the main thread, which counts it and widens the window with it.
      parsed.time = r.time;
      parsed.operation = r.operation;
      parsed.resourceId = r.resourceId;
      parsed.principalId = r.principal.id;
      parsed.appId = r.principal.appId;
      parsed.callerIpAddress = r.callerIpAddress;
      firstSeen.observeLean(parsed);
    },
    take(bytes, start, end, file, line, offset) {
      if (!reader.read(bytes, start, end)) return false;
      const time = reader.text(F_TIME) as string;
      for (let i = 0; i < hashers.length; i++) {
        const h = hashers[i];
        present[i] = h?.(reader, slots[i] as PartHash) ? slots[i] : undefined;
      }
      firstSeen.observeParts(present, time);
      const rs = reader.span[F_RESOURCE] as number;
      const re = reader.span[F_RESOURCE + 1] as number;
      if (re > rs && rs >= 0 && isWrite(reader.operation)) {
        partHashBytes(resource, reader.bytes, rs, re);
        attribution.observeWrite(foldHash([resource]), time, reader.status === "Succeeded", {
          file,
          line,
          offset,
          length: end - start,
          gzip: false,
        });
        if (namesRegistry(reader.bytes, rs, re)) attribution.noteRegistry(reader.text(F_RESOURCE) as string);
      }
      agg.observed++;
      widen(agg, time);
      return true;
    },
    share: () => ({ baselines: firstSeen.share(), writes: attribution.share() }),
  };
  return agg;
}

/** observeLean reads no line reference; a parsed record has none to give. */
const NO_LINE: LineRef = { file: "", line: 0, offset: 0, length: 0, gzip: false };

function widen(agg: LineAggregator, time: string): void {
  if (agg.from === undefined || time < agg.from) agg.from = time;
  if (agg.to === undefined || time > agg.to) agg.to = time;
}

/**
 * A worker thread's baselines and attribution for its range: lines it clears are applied here as
 * they are read (`take`), observations from elsewhere through `add`; `share` is what it sends back.
 */
export interface LineAggregator {
  /** Events applied, and their window. */
  observed: number;
  from?: string;
  to?: string;
  add(o: ActivityObservation): void;
  /**
   * Applies a parsed Activity Log record to the first-seen baselines only (attribution and the
   * window are the main thread's, which gets the record): the caller marks the record
   * BASELINE_APPLIED so the engine does not observe it again.
   */
  addParsed(r: ActivityEvent): void;
  /** Applies the line in bytes[start, end) if the pre-filter clears it; false: it must be parsed. */
  take(bytes: Buffer, start: number, end: number, file: string, line: number, offset: number): boolean;
  share(): Omit<ObservationShare, "kind" | "observed" | "from" | "to">;
}
