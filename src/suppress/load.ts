/** Suppression entries from a file or from the config file, each with where it was written. */
import type { Location } from "../model/diagnostics.js";
import { lineAt, type Path, readYaml, validateYaml, type YamlSource } from "../util/yaml-config.js";
import { type SuppressionSpec, suppressionFileSchema, suppressionMissingHint, suppressionPathName } from "./schema.js";

export interface SuppressionEntry extends SuppressionSpec {
  /** `<file>:<line>` of the entry: what a suppressed finding and an expiry diagnostic name. */
  entry: string;
  location?: Location;
}

/** Attaches where each entry was written (`base` is the list's path in the document). */
export function locateEntries(src: YamlSource, base: Path, specs: readonly SuppressionSpec[]): SuppressionEntry[] {
  return specs.map((spec, i) => {
    const line = lineAt(src, [...base, i]);
    return {
      ...spec,
      entry: line ? `${src.label}:${line}` : `${src.label}#${i + 1}`,
      location: { file: src.label, ...(line ? { line } : {}) },
    };
  });
}

/** Reads a suppression file; any mistake is a UsageError naming file, line, entry and key. */
export function loadSuppressionFile(file: string, label: string = file): SuppressionEntry[] {
  const src = readYaml(file, label, "suppression file");
  // An empty file is an empty list (a team starting its file), not an error.
  if (src.value === null || src.value === undefined) return [];
  const parsed = validateYaml(suppressionFileSchema, src, {
    nameOf: suppressionPathName,
    missingHint: suppressionMissingHint,
  });
  return Array.isArray(parsed)
    ? locateEntries(src, [], parsed)
    : locateEntries(src, ["suppressions"], parsed.suppressions);
}
