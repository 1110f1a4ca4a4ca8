/**
 * Display names Azure writes for operations (the REST `operationName.localizedValue`, the
 * AzureActivity `OperationName` column), mapped back to the operation. A record that carries only
 * the display name is read through this table; one whose name is not here is counted as "operation
 * name not resolvable", never guessed at.
 *
 * The table is data: data/operation-display-names.json, one entry per operation with its display
 * name and the sources it was read from (the resource provider's operations list, `display.operation`,
 * or a recorded Activity Log event with value and localizedValue side by side), and the execution
 * operations no source named, each with the reason. Names are matched case-insensitively with
 * runs of white space read as one space. Display names are English (en-US); other languages are
 * not in any source read here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../paths.js";
import { EXECUTION_CATALOGUE } from "./execution-operations.js";

export interface DisplayNameEntry {
  operation: string;
  display: string;
  sources: string[];
}

export interface DisplayNameTable {
  sources: Record<string, { repo: string; commit: string; path: string; what: string }>;
  entries: DisplayNameEntry[];
  notFound: { operation: string; reason: string }[];
}

export const DISPLAY_NAMES_FILE = join(PACKAGE_ROOT, "data", "operation-display-names.json");

/** Lower-cased, trimmed, white space runs as one space: how display names are compared. */
export function displayKey(name: string): string {
  return name.trim().replace(/\s+/g, " ").toLowerCase();
}

let table: DisplayNameTable | undefined;
let byDisplay: Map<string, string> | undefined;

export function displayNameTable(): DisplayNameTable {
  table ??= JSON.parse(readFileSync(DISPLAY_NAMES_FILE, "utf8")) as DisplayNameTable;
  return table;
}

function lookup(): Map<string, string> {
  if (!byDisplay) {
    const canonical = new Map(EXECUTION_CATALOGUE.map((o) => [o.operation.toLowerCase(), o.operation]));
    byDisplay = new Map();
    for (const e of displayNameTable().entries) {
      byDisplay.set(displayKey(e.display), canonical.get(e.operation.toLowerCase()) ?? e.operation);
    }
  }
  return byDisplay;
}

/** The operation a display name stands for, or undefined when no source names it. */
export function operationForDisplayName(name: string): string | undefined {
  return lookup().get(displayKey(name));
}

/** The display names known, for docs and tests. */
export function knownDisplayNames(): string[] {
  return displayNameTable().entries.map((e) => e.display);
}

/** Whether an operation name is a provider operation (`Namespace.Provider/…`), not a display name. */
export function isProviderOperation(name: string): boolean {
  return name.includes("/");
}
