/**
 * The findings table in Log Analytics (issue 12): `AzureExecAudit_CL`, written through a data
 * collection rule of kind Direct from the stream `Custom-AzureExecAudit_CL`. The columns are the
 * exporter's (src/exporters/sentinel/schema.ts, the one list), which
 * infra/sentinel/findings-table-dcr.json must declare for both the table and the stream
 * (test/infra/sentinel-templates.test.ts).
 */
import { SENTINEL_COLUMNS, SENTINEL_STREAM, SENTINEL_TABLE } from "../../exporters/sentinel/schema.js";

export const FINDINGS_TABLE = SENTINEL_TABLE;
export const FINDINGS_STREAM = SENTINEL_STREAM;
export const FINDINGS_COLUMNS = SENTINEL_COLUMNS;
