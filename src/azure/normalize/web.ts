/**
 * App Service / Function App sites (GET site, reference …/Microsoft.Web/stable/2024-04-01/
 * examples/GetWebApp.json; `az functionapp list` prints the same with properties flattened) and
 * app settings (POST …/config/appsettings/list, examples/ListAppSettings.json). Settings are
 * joined to their site by id; `properties.siteConfig.appSettings` (NameValuePair[]) also counts.
 */
import type { FunctionApp, Origin } from "../../model/records.js";
import { isObj, type Json, parseResourceId, str, stringRecord, stripUndefined } from "./util.js";

export function isSite(o: Json): boolean {
  const t = str(o.type)?.toLowerCase();
  return t === "microsoft.web/sites" || t === "microsoft.web/sites/slots";
}

export function isAppSettings(o: Json): boolean {
  return str(o.type)?.toLowerCase() === "microsoft.web/sites/config" && str(o.name)?.toLowerCase() === "appsettings";
}

/** The site id an appsettings resource belongs to (lower-cased join key). */
export function appSettingsSiteKey(o: Json): string | undefined {
  const id = str(o.id);
  if (!id) return undefined;
  const i = id.toLowerCase().lastIndexOf("/config/appsettings");
  return i > 0 ? id.slice(0, i).toLowerCase() : undefined;
}

export function siteKey(o: Json): string | undefined {
  return str(o.id)?.toLowerCase();
}

function nameValuePairs(v: unknown): Record<string, string> | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const p of v) {
    if (!isObj(p)) continue;
    const name = str(p.name);
    const value = str(p.value);
    if (name !== undefined && value !== undefined) out[name] = value;
  }
  return out;
}

export function toFunctionApp(site: Json, settings: Json | undefined, origin: Origin): FunctionApp | undefined {
  const id = str(site.id);
  const name = str(site.name);
  if (!id || !name) return undefined;
  const props = isObj(site.properties) ? site.properties : site;
  const siteConfig = isObj(props.siteConfig) ? props.siteConfig : {};
  const siteKind = str(site.kind) ?? "";
  const fromConfig = nameValuePairs(siteConfig.appSettings);
  const fromList = settings && isObj(settings.properties) ? stringRecord(settings.properties) : undefined;
  const appSettings = fromConfig || fromList ? { ...fromConfig, ...fromList } : undefined;
  const parsed = parseResourceId(id);
  const app: FunctionApp = {
    kind: "functionApp",
    id,
    name,
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup ?? str(props.resourceGroup),
    siteKind,
    isFunctionApp: siteKind.toLowerCase().includes("functionapp"),
    location: str(site.location),
    state: str(props.state),
    appSettings: appSettings ? Object.freeze(appSettings) : undefined,
    linuxFxVersion: str(siteConfig.linuxFxVersion) || undefined,
    appCommandLine: str(siteConfig.appCommandLine) || undefined,
    origin,
    raw: settings ? { site, appSettings: settings } : site,
  };
  return Object.freeze(stripUndefined(app));
}
