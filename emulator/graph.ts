/**
 * Azure Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources`.
 * Request and answer shapes: Azure/azure-rest-api-specs specification/resourcegraph/resource-manager/
 * Microsoft.ResourceGraph/stable/2021-03-01/examples/ResourcesFilterQuery.json (and
 * ResourcesBasicQuery.json): `{subscriptions, query, options{$top,$skip,$skipToken,resultFormat}}` →
 * `{totalRecords, count, resultTruncated, $skipToken?, facets, data}`; rows with lower-cased `type`.
 *
 * It is not a KQL engine. It understands exactly (case-insensitive keywords, '…' or "…" strings):
 *   Resources | where type in~ ('a', 'b', …) [| project col, col, …]
 *   Resources | where type =~ 'a'            [| project col, col, …]
 * and answers 400 BadRequest (details InvalidQuery) to anything else.
 */

import { parseResourceId } from "./activity.ts";
import { type Ctx, type Route, route } from "./arm.ts";
import { allResources } from "./compute.ts";
import { armError, isObject, type Json, type JsonObject, json, lc, type Reply } from "./util.ts";

const STR = `(?:'[^']*'|"[^"]*")`;
const QUERY = new RegExp(
  `^\\s*resources\\s*\\|\\s*where\\s+type\\s+(?:(in~)\\s*\\(\\s*(${STR}(?:\\s*,\\s*${STR})*)\\s*\\)|(=~)\\s*(${STR}))\\s*(?:\\|\\s*project\\s+([A-Za-z_][\\w]*(?:\\s*,\\s*[A-Za-z_][\\w]*)*)\\s*)?$`,
  "i",
);

export interface ParsedGraphQuery {
  types: string[];
  project: string[] | undefined;
}

export function parseGraphQuery(q: string): ParsedGraphQuery | undefined {
  const m = QUERY.exec(q);
  if (!m) return undefined;
  const list = m[2] ?? m[4] ?? "";
  const types = [...list.matchAll(new RegExp(STR, "g"))].map((x) => lc(x[0].slice(1, -1)));
  const project = m[5] ? m[5].split(",").map((s) => s.trim()) : undefined;
  return { types, project };
}

/** A Resources-table row as Resource Graph returns it. */
function row(r: JsonObject, tenantId: string): JsonObject {
  const id = String(r.id ?? "");
  const p = parseResourceId(id);
  return {
    id,
    name: r.name ?? null,
    type: lc(String(r.type ?? "")),
    tenantId,
    kind: r.kind ?? "",
    location: lc(String(r.location ?? "")).replace(/\s+/g, ""),
    resourceGroup: lc(p.resourceGroup),
    subscriptionId: p.subscriptionId ?? "",
    managedBy: r.managedBy ?? "",
    sku: r.sku ?? null,
    plan: r.plan ?? null,
    properties: r.properties ?? null,
    tags: r.tags ?? null,
    identity: r.identity ?? null,
    zones: r.zones ?? null,
    extendedLocation: r.extendedLocation ?? null,
  };
}

function badQuery(message: string): Reply {
  return json(400, {
    error: {
      code: "BadRequest",
      message: "Please provide below info when asking for support: timestamp, correlationId.",
      details: [{ code: "InvalidQuery", message }],
    },
  });
}

function num(v: Json | undefined): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}

export function graphQuery(ctx: Ctx): Reply {
  let body: Json;
  try {
    body = JSON.parse(ctx.body.toString("utf8") || "{}") as Json;
  } catch {
    return armError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.");
  }
  if (!isObject(body) || typeof body.query !== "string")
    return armError(400, "InvalidRequestContent", "The request content must have a 'query' string.");
  const parsed = parseGraphQuery(body.query);
  if (!parsed) {
    return badQuery(
      `The emulator understands only "Resources | where type in~ ('a', …) [| project …]" and "Resources | where type =~ 'a' [| project …]"; got: ${body.query}`,
    );
  }
  const opts = isObject(body.options) ? body.options : {};
  if (typeof opts.resultFormat === "string" && lc(opts.resultFormat) !== "objectarray") {
    return badQuery(`resultFormat '${opts.resultFormat}' is not supported by the emulator (objectArray only).`);
  }
  const subs = Array.isArray(body.subscriptions) ? new Set(body.subscriptions.map((s) => lc(String(s)))) : undefined;
  const types = new Set(parsed.types);
  const rows = allResources(ctx)
    .map((r) => row(r, ctx.snap.tenantId))
    .filter((r) => types.has(String(r.type)) && (!subs || subs.has(lc(String(r.subscriptionId)))))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const projected = parsed.project
    ? rows.map((r) => {
        const o: JsonObject = {};
        for (const c of parsed.project ?? []) {
          const k = Object.keys(r).find((x) => lc(x) === lc(c));
          o[c] = k ? (r[k] as Json) : null;
        }
        return o;
      })
    : rows;
  let offset = num(opts.$skip) ?? 0;
  if (typeof opts.$skipToken === "string" && opts.$skipToken) {
    try {
      const t = JSON.parse(Buffer.from(opts.$skipToken, "base64url").toString("utf8")) as Json;
      offset = isObject(t) && typeof t.o === "number" ? t.o : Number.NaN;
    } catch {
      offset = Number.NaN;
    }
    if (!Number.isInteger(offset) || offset < 0) return badQuery("The $skipToken is invalid.");
  }
  const top = Math.min(num(opts.$top) ?? 100, 1000);
  const data = projected.slice(offset, offset + top);
  const out: JsonObject = {
    totalRecords: projected.length,
    count: data.length,
    resultTruncated: "false",
  };
  if (offset + top < projected.length)
    out.$skipToken = Buffer.from(JSON.stringify({ o: offset + top })).toString("base64url");
  out.facets = [];
  out.data = data;
  return json(200, out);
}

export const graphRoutes: Route[] = [route("POST", "/providers/Microsoft\\.ResourceGraph/resources", graphQuery)];
