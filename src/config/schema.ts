/**
 * The config file, `azure-exec-audit.yaml`: every key the user may write, validated with zod so
 * that a mistake names its key path and what is allowed (docs/cli.md#config-file). Keys are the
 * camelCase of the flags they stand for; unknown keys are errors (a typo must not be ignored).
 */
import { z } from "zod";
import { SEVERITIES } from "../model/finding.js";
import { parseDuration } from "../sigma/duration.js";
import { suppressionEntrySchema } from "../suppress/schema.js";

const text = z.string().trim().min(1);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** What --since / --until accept: a duration back from now, or an ISO date. */
const when = text.refine((s) => parseDuration(s) !== undefined || (ISO_DATE.test(s) && !Number.isNaN(Date.parse(s))), {
  message: "must be a duration back from now (7d, 24h, 90m) or an ISO date (2026-11-20T00:00:00Z)",
});

/** One of `values`, whatever its case (`HIGH`, `Sarif`): the flags accept any case, so the file does too. */
function anyCase<T extends string>(values: readonly [T, ...T[]]) {
  return z.preprocess((v) => (typeof v === "string" ? v.trim().toLowerCase() : v), z.enum(values));
}

export function configSchema(formats: readonly string[]) {
  const format = anyCase(formats as [string, ...string[]]);
  return z.strictObject({
    /** Which subscriptions the live collectors read (one of the three). */
    scopes: z
      .strictObject({
        subscriptions: z.array(text).min(1).optional(),
        allSubscriptions: z.boolean().optional(),
        managementGroup: text.optional(),
      })
      .refine(
        (s) =>
          [s.subscriptions !== undefined, s.allSubscriptions === true, s.managementGroup].filter(Boolean).length <= 1,
        {
          message: "must name only one of subscriptions, allSubscriptions, managementGroup",
        },
      )
      .optional(),
    /** Where records come from besides the APIs: files, or the Activity Log from a workspace or an archive. */
    sources: z
      .strictObject({
        inputs: z.array(text).min(1).optional(),
        workspace: text.optional(),
        archive: text.optional(),
      })
      .refine((s) => s.workspace === undefined || s.archive === undefined, {
        message: "must name workspace or archive, not both (both are the Activity Log)",
      })
      .optional(),
    lookback: z.strictObject({ since: when.optional(), until: when.optional() }).optional(),
    /** Extra Sigma rule directories. */
    rules: z.array(text).optional(),
    /** Inline entries, or the path of a suppression file. */
    suppressions: z.union([text, z.array(suppressionEntrySchema)]).optional(),
    /** A JSON report of an earlier scan to gate against. */
    baseline: text.optional(),
    output: z
      .strictObject({
        format: format.optional(),
        file: text.optional(),
        /** More reports of the same scan: format → file (`--output FORMAT=PATH`). */
        reports: z.partialRecord(format, text).optional(),
        sarifArtifactUri: text.optional(),
      })
      .optional(),
    failOn: anyCase(SEVERITIES).optional(),
    /** Only findings of these severities are reported and gated (`--severity`). */
    severity: z.array(anyCase(SEVERITIES)).min(1).optional(),
    /** Rule selectors (`--enable`, `--disable`): ids, tags, levels, globs over ids and rule files. */
    enable: z.array(text).min(1).optional(),
    disable: z.array(text).min(1).optional(),
    /** The state store's file, or false for none (read by the state store). */
    state: z.union([text, z.literal(false)]).optional(),
    maxConcurrency: z.number().int().min(1).max(64).optional(),
    readAppSettings: z.boolean().optional(),
    /** Export findings to Microsoft Sentinel through the Logs Ingestion API (docs/sentinel.md). */
    sentinel: z
      .strictObject({
        endpoint: text.optional(),
        ruleId: text.optional(),
        stream: text.optional(),
      })
      .optional(),
  });
}

export type Config = z.output<ReturnType<typeof configSchema>>;
