/**
 * The pre-filter for a rule set: which Activity Log operations must be parsed (every operation a
 * loaded rule, a rule feeding a correlation, or attribution reads), and whether every scan-wide
 * stage can make do with the lean fields of the rest. When a loaded rule could match any
 * operation, or a first-seen rule keys on a field the lean reader does not give, there is no
 * pre-filter and every line is parsed: slower, never different.
 */
import type { LineFilter } from "../collectors/types.js";
import type { ActivityObservation } from "../model/records.js";
import { builtModule } from "../paths.js";
import type { EngineRule } from "../rules/loader.js";
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

export function prefilterFor(rules: readonly EngineRule[]): Prefilter {
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
  return { filter: createLineFilter([...ops]) };
}

/** The filter for a list of operations to parse; also what a worker thread builds it with. */
export function createLineFilter(options: unknown): LineFilter {
  const ops = new Set(Array.isArray(options) ? options.filter((x): x is string => typeof x === "string") : []);
  return {
    observe: (bytes, start, end) => leanActivity(bytes, start, end, ops),
    worker: { module: builtModule(import.meta.url).href, options: [...ops] },
  };
}
