/**
 * What a suppression entry is, as the user writes it (a suppression file, or `suppressions:` in
 * the config file): which findings it matches, why, and until when. docs/cli.md#suppressions.
 */
import { z } from "zod";
import { formatPath, type Path } from "../util/yaml-config.js";

const text = z.string().trim().min(1);

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * When an entry stops applying, in ms: a date alone is the start of that day (UTC), so
 * `expires: 2027-03-31` applies up to 2027-03-30 inclusive. Undefined when not a valid date.
 */
export function expiryTime(expires: string): number | undefined {
  if (!DATE_ONLY.test(expires) && !DATE_TIME.test(expires)) return undefined;
  const t = Date.parse(DATE_ONLY.test(expires) ? `${expires}T00:00:00Z` : expires);
  if (Number.isNaN(t)) return undefined;
  // Date.parse rolls 2027-02-30 over to March; a date that is not on the calendar is a typo.
  if (new Date(t).toISOString().slice(0, 10) !== expires.slice(0, 10) && DATE_ONLY.test(expires)) return undefined;
  return t;
}

export const suppressionEntrySchema = z
  .strictObject({
    /** A rule id, or a glob of rule ids (`*`, `?`). */
    rule: text.optional(),
    /** A glob of rule titles. */
    title: text.optional(),
    /** A subscription id (exact, any case). */
    subscription: text.optional(),
    /** A glob of ARM resource ids (any case). */
    resource: text.optional(),
    /** A principal's object id, application id or display name (a glob, any case). */
    principal: text.optional(),
    reason: text,
    expires: text.refine((s) => expiryTime(s) !== undefined, {
      message: "must be a date (YYYY-MM-DD) or an ISO date-time with a time zone",
    }),
  })
  // An entry without a rule would silence every rule on its resources: it must say so (`rule: "*"`).
  .refine((e) => e.rule !== undefined || e.title !== undefined, {
    message: "needs 'rule' (a rule id or a glob of rule ids) or 'title' (a glob of rule titles)",
  });

export type SuppressionSpec = z.output<typeof suppressionEntrySchema>;

/** A suppression file: a list of entries, or a mapping with `suppressions:` holding the list. */
export const suppressionFileSchema = z.union([
  z.array(suppressionEntrySchema),
  z.strictObject({ suppressions: z.array(suppressionEntrySchema) }),
]);

/** For messages: a bare list's entries are named `suppressions[i]` like the config file's. */
export function suppressionPathName(path: Path): string {
  return formatPath(typeof path[0] === "number" ? ["suppressions", ...path] : path);
}

/** A missing reason or expires says that both are required, not only which one is missing. */
export function suppressionMissingHint(path: Path): string | undefined {
  const key = path.at(-1);
  const inEntry = typeof path.at(-2) === "number";
  return inEntry && (key === "reason" || key === "expires")
    ? "every suppression needs a reason and an expires date"
    : undefined;
}
