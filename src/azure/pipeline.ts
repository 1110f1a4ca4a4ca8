/**
 * The processing pipeline between the Sigma rule model and the in-process matcher for Azure:
 * `product: azure` logsources → record kinds, SigmaHQ / AzureActivity field aliases → our record
 * paths, and the catalogue placeholders (`%execution_operations%`). A query backend (Sentinel KQL)
 * uses a pipeline of its own over the same rules.
 */

import type { RecordKind } from "../model/records.js";
import type { Logsource } from "../sigma/ast.js";
import { fieldMapping, logsourceTarget, ProcessingPipeline, placeholders } from "../sigma/pipeline.js";
import { PLACEHOLDER_LISTS } from "./catalog/execution-operations.js";
import { canonicalField } from "./fields.js";

/** `product: azure` services → record kind. */
export const SERVICES: Readonly<Record<string, RecordKind>> = {
  activitylogs: "activity",
  roleassignments: "roleAssignment",
  roledefinitions: "roleDefinition",
  functionapps: "functionApp",
  images: "containerImage",
  resources: "resource",
  payloads: "payload",
  grants: "grant",
};

export function kindForLogsource(ls: Logsource): RecordKind | undefined {
  if ((ls.product ?? "").toLowerCase() !== "azure") return undefined;
  return SERVICES[(ls.service ?? "").toLowerCase()];
}

export const AZURE_MATCHER_PIPELINE = new ProcessingPipeline("azure-records", [
  logsourceTarget(
    kindForLogsource,
    (ls) =>
      `logsource product '${ls.product ?? ""}' service '${ls.service ?? ""}' is not one this tool reads (product: azure; service: ${Object.keys(SERVICES).join(", ")})`,
  ),
  fieldMapping("azure-field-aliases", (field, kind) => canonicalField(kind, field)),
  placeholders(PLACEHOLDER_LISTS),
]);

/** The field the engine indexes Activity Log rules by: a record meets only rules for its operation. */
export function isOperationField(kind: string, field: string): boolean {
  return kind === "activity" && field.toLowerCase() === "operationname";
}
