/**
 * Which handler a VM, scale set or Arc machine extension write installed, for Activity Log
 * events that do not say it themselves. Azure echoes the extension's publisher and type in the
 * request body of the Started record or the response body of the Accepted one, but most
 * exported events carry neither (shared/vectors.md row 5): the operation and the extension's
 * resource id are then all there is. The handler is taken, in order, from the event's own body,
 * from the body of another record of the same call (correlation id and resource), and from the
 * extension's configuration when the scan read it (VirtualMachineExtensions_Get:
 * `properties.publisher` / `properties.type`). The extension name in the resource id is the
 * caller's choice and is only read by the rules, never here.
 */
import type { ActivityEvent, ArmResource } from "../../model/records.js";
import { jsonish } from "../normalize/util.js";

/** One call: its records share a correlation id and resource (as the engine groups them). */
const callOf = (e: ActivityEvent) =>
  `${(e.correlationId ?? e.id).toLowerCase()}\u001f${(e.resourceId ?? "").toLowerCase()}`;

/** The extension writes whose handler is looked up (lower case, as `operation` holds them). */
export const EXTENSION_WRITES: ReadonlySet<string> = new Set([
  "microsoft.compute/virtualmachines/extensions/write",
  "microsoft.compute/virtualmachinescalesets/extensions/write",
  "microsoft.compute/virtualmachinescalesets/virtualmachines/extensions/write",
  "microsoft.hybridcompute/machines/extensions/write",
  "microsoft.connectedvmwarevsphere/virtualmachines/extensions/write",
]);

/** Configuration types whose publisher and type name the handler. */
const EXTENSION_TYPES: ReadonlySet<string> = new Set([
  "microsoft.compute/virtualmachines/extensions",
  "microsoft.compute/virtualmachinescalesets/extensions",
  "microsoft.compute/virtualmachinescalesets/virtualmachines/extensions",
  "microsoft.hybridcompute/machines/extensions",
  "microsoft.connectedvmwarevsphere/virtualmachines/extensions",
]);

/** Calls and extensions remembered; past it, handlers of more are not known (the lower-severity rule fires). */
const LIMIT = 100_000;

function handlerIn(body: unknown): string | undefined {
  const o = jsonish(body);
  const p = o ? jsonish(o.properties ?? o.Properties) : undefined;
  if (!p) return undefined;
  const publisher = p.publisher ?? p.Publisher;
  const type = p.type ?? p.Type;
  return typeof publisher === "string" && typeof type === "string" && publisher && type
    ? `${publisher}/${type}`
    : undefined;
}

/** The `publisher/type` an extension write's own record carries in its request or response body. */
export function ownHandler(e: ActivityEvent): string | undefined {
  if (!EXTENSION_WRITES.has(e.operation)) return undefined;
  const p = e.properties;
  return handlerIn(p.requestbody ?? p.requestBody) ?? handlerIn(p.responseBody ?? p.responsebody);
}

export class ExtensionHandlers {
  /** Operation instance → handler its records' bodies name. */
  private readonly byCall = new Map<string, string>();
  /** Lower-cased extension resource id → handler its configuration names. */
  private readonly byResource = new Map<string, string>();

  observeEvent(e: ActivityEvent): void {
    const h = ownHandler(e);
    if (h && this.byCall.size < LIMIT) this.byCall.set(callOf(e), h);
  }

  observeResource(r: ArmResource): void {
    if (!EXTENSION_TYPES.has(r.typeLower)) return;
    const publisher = r.properties.publisher;
    const type = r.properties.type;
    if (typeof publisher === "string" && typeof type === "string" && this.byResource.size < LIMIT) {
      this.byResource.set(r.id.toLowerCase(), `${publisher}/${type}`);
    }
  }

  /** The handler of an extension write, from whatever the scan read; undefined when nothing says. */
  handlerOf(e: ActivityEvent): string | undefined {
    if (!EXTENSION_WRITES.has(e.operation)) return undefined;
    return (
      ownHandler(e) ??
      this.byCall.get(callOf(e)) ??
      (e.resourceId ? this.byResource.get(e.resourceId.toLowerCase()) : undefined)
    );
  }
}

/** The extension's name: the last segment of its resource id (chosen by whoever wrote it). */
export function extensionName(e: ActivityEvent): string | undefined {
  if (!EXTENSION_WRITES.has(e.operation) || !e.resourceId) return undefined;
  const m = /\/extensions\/([^/]+)\/?$/i.exec(e.resourceId);
  return m ? m[1] : undefined;
}
