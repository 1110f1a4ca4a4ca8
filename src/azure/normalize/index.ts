/**
 * Shape detection: one untrusted JSON object in, zero or more records out. Sites and their app
 * settings arrive separately and are joined by `SiteJoiner` once all input is read.
 */
import type { AuditRecord, Origin } from "../../model/records.js";
import { isProviderOperation } from "../catalog/localized-operations.js";
import {
  type ActivityRead,
  isExportActivity,
  isRestActivity,
  isTableActivity,
  readExport,
  readRest,
  readTable,
} from "./activity.js";
import { azHint, isFlattenedArm, unflattenArm } from "./az.js";
import { expandEnvelopes, jsonText } from "./envelope.js";
import { fromManifestListing, isImageEnvelope, isManifestListing, toImage } from "./images.js";
import { isRoleAssignment, isRoleDefinition, toRoleAssignment, toRoleDefinition } from "./rbac.js";
import { isArmResource, toArmResource } from "./resources.js";
import { notActivityLog, spelledAsAzure, tolerantActivity } from "./tolerant.js";
import { isObj, type Json, str } from "./util.js";
import { appSettingsSiteKey, isAppSettings, isSite, siteKey, toFunctionApp } from "./web.js";

export type Classified =
  | { records: AuditRecord[]; shape: string }
  | { pending: "site" | "appsettings"; key: string; value: Json; shape: string }
  | { error: string }
  /**
   * Read and set aside, counted apart in coverage: a record that is no Activity Log event
   * (resource, sign-in or metric log), or an event whose operation is only a display name that
   * maps to none.
   */
  | { skipped: "not-activity" | "unresolved"; reason: string };

function fromActivity(r: ActivityRead, shape: string): Classified {
  if ("error" in r) return { error: r.error };
  if ("unresolved" in r) return { skipped: "unresolved", reason: r.unresolved };
  return { records: [r], shape: r.origin.shape || shape };
}

/** What kind of JSON value a non-object is, for messages. */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return `a ${typeof v}`;
}

export function classify(value: unknown, origin: Omit<Origin, "shape">, depth = 0): Classified {
  if (!isObj(value)) return { error: `is not a JSON object (found ${kindOf(value)})` };
  const o = value;
  const at = (shape: string): Origin => ({ ...origin, shape });
  const one = (shape: string, r: AuditRecord | undefined): Classified =>
    r ? { records: [r], shape } : { error: `looks like ${shape} but lacks required fields` };
  // The three Activity Log shapes as Azure writes them: read directly. Field names in another
  // case send a record to the tolerant reader, which renames them first.
  if (isRestActivity(o)) {
    if (!spelledAsAzure(o, "rest")) return tolerant(o, origin);
    const r = readRest(o, at("activity-rest"));
    if ("error" in r) return { error: withHint(r.error, o) };
    return fromActivity(r, "activity-rest");
  }
  if (isExportActivity(o)) {
    if (!isProviderOperation(o.operationName as string)) {
      const other = notActivityLog(o);
      if (other) return { skipped: "not-activity", reason: other };
    }
    if (!spelledAsAzure(o, "export")) return tolerant(o, origin);
    return fromActivity(readExport(o, at("activity-export")), "activity-export");
  }
  if (isTableActivity(o)) {
    if (!spelledAsAzure(o, "table")) return tolerant(o, origin);
    return fromActivity(readTable(o, at("activity-table")), "activity-table");
  }
  if (isRoleAssignment(o)) return one("role-assignment", toRoleAssignment(o, at("role-assignment")));
  if (isRoleDefinition(o)) return one("role-definition", toRoleDefinition(o, at("role-definition")));
  if (isSite(o)) {
    const key = siteKey(o);
    if (!key) return { error: "is a site without an id" };
    // Checked here, not when joined: a site held for its settings and then not read would be lost
    // without a word (and would take the place of a readable copy of the same site).
    if (!str(o.name)) return { error: "is a site without a name" };
    return { pending: "site", key, value: o, shape: "site" };
  }
  if (isAppSettings(o)) {
    const key = appSettingsSiteKey(o);
    return key
      ? { pending: "appsettings", key, value: o, shape: "appsettings" }
      : { error: "is an appsettings resource whose id does not end in /config/appsettings" };
  }
  if (isImageEnvelope(o)) return one("image", toImage(o, at("image")));
  if (isManifestListing(o)) return { records: fromManifestListing(o, at("acr-manifests")), shape: "acr-manifests" };
  if (isArmResource(o)) return one("arm-resource", toArmResource(o, at("arm-resource")));
  // `az … list/show` of a resource: the SDK model with `properties` flattened into the top level.
  if (isFlattenedArm(o)) return one("arm-resource-az", toArmResource(unflattenArm(o), at("arm-resource-az"), o));
  const other = notActivityLog(o);
  if (other) return { skipped: "not-activity", reason: other };
  const t = tolerantActivity(o, origin);
  if (t) return "error" in t ? { error: withHint(t.error, o) } : fromActivity(t, "activity");
  // A known `az` output that cannot be read says which command to use instead (its members may
  // hold JSON text, as app settings values do).
  const hint = azHint(o);
  if (hint) return { error: hint };
  const text = depth < 2 ? recordInText(o) : undefined;
  if (text !== undefined) return classifyAll(text, origin, depth + 1);
  return { error: unknownShape(o) };
}

/**
 * A record kept as JSON text in a member of a wrapper object (a log shipper's `message`, a
 * queue's payload): the one member whose text is a JSON object or array.
 */
function recordInText(o: Json): unknown {
  let found: unknown;
  for (const k in o) {
    const parsed = jsonText(o[k]);
    if (parsed === undefined) continue;
    if (found !== undefined) return undefined; // Two candidates: not ours to choose.
    found = parsed;
  }
  return found;
}

/** Every record in JSON text found in a wrapper, as one result (the first problem, if any). */
function classifyAll(value: unknown, origin: Omit<Origin, "shape">, depth: number): Classified {
  const records: AuditRecord[] = [];
  let shape = "";
  for (const v of expandEnvelopes(value)) {
    const c = classify(v, origin, depth);
    if (!("records" in c)) return "error" in c ? { error: `holds JSON text whose record ${c.error}` } : c;
    records.push(...c.records);
    shape ||= c.shape;
  }
  return records.length > 0 ? { records, shape } : { error: "holds JSON text with no records" };
}

/** Say what was looked for and what the record has, so the user can tell which field is off. */
function unknownShape(o: Json): string {
  const keys = Object.keys(o);
  const shown = keys.slice(0, 12).join(", ") + (keys.length > 12 ? `, … (${keys.length} fields)` : "");
  return (
    "has an unknown record shape (looked for an Activity Log event: operationName or OperationNameValue " +
    "with time, eventTimestamp or TimeGenerated; a role assignment: principalId, roleDefinitionId, scope; " +
    "a role definition: roleName, permissions; a site, app settings, image or ARM resource: id, type); " +
    `found fields ${shown || "(none)"}`
  );
}

/** What is missing, and the likely cause when one is known (an `az … --select`). */
function withHint(error: string, o: Json): string {
  const hint = azHint(o);
  return hint ? `${error}. It ${hint}` : error;
}

/** A record of an Activity Log shape with fields spelled otherwise. */
function tolerant(o: Json, origin: Omit<Origin, "shape">): Classified {
  const t = tolerantActivity(o, origin);
  if (!t) return { error: azHint(o) ?? unknownShape(o) };
  return "error" in t ? { error: withHint(t.error, o) } : fromActivity(t, "activity");
}

/**
 * Holds sites and app settings until both sides may have been read — across every input of a
 * scan, so settings exported to another file or directory than their site still join. Small:
 * one entry per app.
 */
export class SiteJoiner {
  private sites = new Map<string, { value: Json; origin: Origin }>();
  private settings = new Map<string, { value: Json; origin: Origin }>();

  add(kind: "site" | "appsettings", key: string, value: Json, origin: Origin): void {
    if (kind === "site") this.sites.set(key, { value, origin });
    else this.settings.set(key, { value, origin });
  }

  *drain(): Generator<AuditRecord> {
    for (const [key, { value, origin }] of this.sites) {
      const app = toFunctionApp(value, this.settings.get(key)?.value, origin);
      if (app) yield app;
    }
    this.sites.clear();
    this.settings.clear();
  }

  /** App settings whose site was never read: reported, since their app is invisible to rules. */
  orphanSettings(): { key: string; origin: Origin }[] {
    return [...this.settings.entries()]
      .filter(([k]) => !this.sites.has(k))
      .map(([key, s]) => ({ key, origin: s.origin }));
  }
}
