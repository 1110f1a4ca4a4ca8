/**
 * Shape detection: one untrusted JSON object in, zero or more records out. Sites and their app
 * settings arrive separately and are joined by `SiteJoiner` once all input is read.
 */
import type { AuditRecord, Origin } from "../../model/records.js";
import { fromExport, fromRest, fromTable, isExportActivity, isRestActivity, isTableActivity } from "./activity.js";
import { azHint, isFlattenedArm, unflattenArm } from "./az.js";
import { fromManifestListing, isImageEnvelope, isManifestListing, toImage } from "./images.js";
import { isRoleAssignment, isRoleDefinition, toRoleAssignment, toRoleDefinition } from "./rbac.js";
import { isArmResource, toArmResource } from "./resources.js";
import { isObj, type Json } from "./util.js";
import { appSettingsSiteKey, isAppSettings, isSite, siteKey, toFunctionApp } from "./web.js";

export type Classified =
  | { records: AuditRecord[]; shape: string }
  | { pending: "site" | "appsettings"; key: string; value: Json; shape: string }
  | { error: string };

export function classify(value: unknown, origin: Omit<Origin, "shape">): Classified {
  if (!isObj(value)) return { error: "is not a JSON object" };
  const o = value;
  const at = (shape: string): Origin => ({ ...origin, shape });
  const one = (shape: string, r: AuditRecord | undefined): Classified =>
    r ? { records: [r], shape } : { error: `looks like ${shape} but lacks required fields` };
  if (isRestActivity(o)) {
    const e = fromRest(o, at("activity-rest"));
    if (e) return { records: [e], shape: "activity-rest" };
    return { error: azHint(o) ?? "looks like activity-rest but lacks required fields" };
  }
  if (isExportActivity(o)) return one("activity-export", fromExport(o, at("activity-export")));
  if (isTableActivity(o)) return one("activity-table", fromTable(o, at("activity-table")));
  if (isRoleAssignment(o)) return one("role-assignment", toRoleAssignment(o, at("role-assignment")));
  if (isRoleDefinition(o)) return one("role-definition", toRoleDefinition(o, at("role-definition")));
  if (isSite(o)) {
    const key = siteKey(o);
    return key ? { pending: "site", key, value: o, shape: "site" } : { error: "is a site without an id" };
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
  const hint = azHint(o);
  if (hint) return { error: hint };
  return {
    error:
      "has an unknown record shape (not an Activity Log event, role assignment or definition, site, app settings, image or ARM resource)",
  };
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
