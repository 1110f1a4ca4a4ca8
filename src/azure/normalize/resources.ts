/** Generic ARM resource configuration (any GET body with id, type and properties). */
import type { ArmResource, Origin } from "../../model/records.js";
import { isObj, type Json, parseResourceId, str, stripUndefined } from "./util.js";

export function isArmResource(o: Json): boolean {
  const id = str(o.id);
  const type = str(o.type);
  // Subscription-scoped resources, and tenant or management-group ones (policy definitions).
  const scoped = !!id && (/^\/subscriptions\//i.test(id) || /^\/providers\//i.test(id));
  return scoped && !!type && type.includes("/") && isObj(o.properties);
}

/** `raw` is what the input held, when `o` was rebuilt from it (a flattened az resource). */
export function toArmResource(o: Json, origin: Origin, raw: Json = o): ArmResource | undefined {
  const id = str(o.id);
  const type = str(o.type);
  if (!id || !type) return undefined;
  const parsed = parseResourceId(id);
  const r: ArmResource = {
    kind: "resource",
    id,
    name: str(o.name) ?? id.slice(id.lastIndexOf("/") + 1),
    type,
    typeLower: type.toLowerCase(),
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    location: str(o.location),
    properties: Object.freeze(isObj(o.properties) ? o.properties : {}),
    identity: o.identity,
    origin,
    raw,
  };
  return Object.freeze(stripUndefined(r));
}
