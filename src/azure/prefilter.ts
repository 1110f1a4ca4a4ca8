/**
 * The pre-filter for a rule set: which Activity Log operations must be parsed (every operation a
 * loaded rule, a rule feeding a correlation, or attribution reads), and whether every scan-wide
 * stage can make do with the lean fields of the rest. When a loaded rule could match any
 * operation, or a first-seen rule keys on a field the lean reader does not give, there is no
 * pre-filter and every line is parsed: slower, never different.
 */
import type { LineFilter } from "../collectors/types.js";
import { firstSeenTuples } from "../engine/engine.js";
import { FirstSeenStage } from "../engine/firstseen.js";
import { DEFAULT_LIMITS, type EngineLimits, MemoryState } from "../engine/state.js";
import type { ActivityObservation, ObservationShare } from "../model/records.js";
import { builtModule } from "../paths.js";
import type { EngineRule } from "../rules/loader.js";
import { Attribution } from "./enrich/attribution.js";
import { ipPrefix, topResource } from "./fields.js";
import { leanActivity } from "./normalize/lean.js";

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

export interface Prefilter {
  filter?: LineFilter;
  /** Why every line is parsed, when it is. */
  disabled?: string;
}

export function prefilterFor(rules: readonly EngineRule[], limits: Partial<EngineLimits> = {}): Prefilter {
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
  const l = { ...DEFAULT_LIMITS, ...limits };
  const options: FilterOptions = {
    ops: [...ops],
    tuples: firstSeenTuples(rules),
    baselineKeys: l.baselineKeys,
    writers: l.writers,
  };
  return { filter: createLineFilter(options) };
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
export function createAggregator(options: unknown): {
  add(o: ActivityObservation): void;
  share(): Omit<ObservationShare, "kind" | "observed" | "from" | "to">;
} {
  const o = options as FilterOptions;
  const state = new MemoryState();
  const firstSeen = new FirstSeenStage(o.tuples, state, o.baselineKeys);
  const attribution = new Attribution(state.writers(), o.writers);
  return {
    add(obs) {
      firstSeen.observeLean(obs);
      attribution.observeLean(obs);
    },
    share: () => ({ baselines: firstSeen.share(), writes: attribution.share() }),
  };
}
