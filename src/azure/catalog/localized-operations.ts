/**
 * Display names Azure writes for operations (the REST `operationName.localizedValue`, the
 * AzureActivity `OperationName` column), mapped back to the operation. A record that carries only
 * the display name is read through this table; one whose name is not here is counted as "operation
 * name not resolvable", never guessed at.
 *
 * Every entry is the `display.operation` of the operation in its resource provider's operations
 * list (GET /providers/<namespace>/operations, `Operations_List`), or a localizedValue recorded
 * beside its value in an Activity Log response. Sources per entry (full provenance in
 * test/fixtures/reference/activity-shapes/SOURCES.md):
 * - C: Microsoft.Compute operations list, `display.operation` (a copy of the RP's list with
 *   `"origin": "user,system"` entries, as `az provider operation show -n Microsoft.Compute` prints it)
 * - R: cloud-custodian @df800e9e …/FunctionalActionsTagsTest.test_autotag_user_and_date.json, a
 *   recorded `eventtypes/management/values` response (operationName value and localizedValue)
 *
 * Display names are English (en-US); other languages are not in any source read here.
 */
import { EXECUTION_CATALOGUE } from "./execution-operations.js";

const DISPLAY_NAMES: readonly (readonly [display: string, operation: string])[] = [
  ["Run Command on Virtual Machine", "Microsoft.Compute/virtualMachines/runCommand/action"], // C
  ["Create or Update Virtual Machine Extension", "Microsoft.Compute/virtualMachines/extensions/write"], // C
  [
    "Create or Update Virtual Machine Scale Set Extension",
    "Microsoft.Compute/virtualMachineScaleSets/extensions/write",
  ], // C
  ["Create or Update Virtual Machine", "Microsoft.Compute/virtualMachines/write"], // C, R
];

/** Lower-cased display name → the operation as the catalogue spells it. */
const BY_DISPLAY = new Map<string, string>();
const CANONICAL = new Map(EXECUTION_CATALOGUE.map((o) => [o.operation.toLowerCase(), o.operation]));
for (const [display, operation] of DISPLAY_NAMES) {
  BY_DISPLAY.set(display.toLowerCase(), CANONICAL.get(operation.toLowerCase()) ?? operation);
}

/** The operation a display name stands for, or undefined when no source names it. */
export function operationForDisplayName(name: string): string | undefined {
  return BY_DISPLAY.get(name.trim().toLowerCase());
}

/** The display names known, for docs and tests. */
export const KNOWN_DISPLAY_NAMES: readonly string[] = DISPLAY_NAMES.map(([d]) => d);

/** Whether an operation name is a provider operation (`Namespace.Provider/…`), not a display name. */
export function isProviderOperation(name: string): boolean {
  return name.includes("/");
}
