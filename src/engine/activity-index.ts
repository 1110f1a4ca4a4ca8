/**
 * What the Activity Log says about resources, kept while the stream passes so configuration
 * findings (a run command's script, a function app's package URL, an image's entrypoint) can
 * name who wrote the resource and when. One small entry per written resource.
 */
import type { ActivityEvent, Principal } from "../model/records.js";
import { requestBody } from "../sources/normalize/activity.js";

export interface WriteSummary {
  principal: Principal;
  time: string;
  operation: string;
  eventId: string;
  correlationId?: string;
  callerIpAddress?: string;
  subscriptionId?: string;
  location: string;
  index?: number;
}

export interface ImportSummary extends WriteSummary {
  registryId: string;
  /** targetTags from the request body when Azure logged it (repo:tag). */
  targetTags: string[];
  source?: string;
}

function summary(e: ActivityEvent): WriteSummary {
  return {
    principal: e.principal,
    time: e.time,
    operation: e.operationName,
    eventId: e.id,
    correlationId: e.correlationId,
    callerIpAddress: e.callerIpAddress,
    subscriptionId: e.subscriptionId,
    location: e.origin.location,
    index: e.origin.index,
  };
}

/** How far apart an import and an image's creation may be to be linked without a request body. */
const IMPORT_LINK_WINDOW_MS = 60 * 60 * 1000;

export class ActivityIndex {
  /** Lower-cased resource id → latest successful (else latest) write/action on it. */
  private writes = new Map<string, WriteSummary & { succeeded: boolean }>();
  /** Lower-cased registry name → registry resource id. */
  private registries = new Map<string, string>();
  private imports: ImportSummary[] = [];
  minTime?: string;
  maxTime?: string;

  add(e: ActivityEvent): void {
    if (this.minTime === undefined || e.time < this.minTime) this.minTime = e.time;
    if (this.maxTime === undefined || e.time > this.maxTime) this.maxTime = e.time;
    const op = e.operation;
    if (!e.resourceId || !(op.endsWith("/write") || op.endsWith("/action"))) return;
    const key = e.resourceId.toLowerCase();
    const succeeded = e.status === "Succeeded";
    const prev = this.writes.get(key);
    if (!prev || (succeeded && (!prev.succeeded || e.time >= prev.time)) || (!prev.succeeded && e.time >= prev.time)) {
      this.writes.set(key, { ...summary(e), succeeded });
    }
    const reg = /\/providers\/microsoft\.containerregistry\/registries\/([^/]+)/i.exec(e.resourceId);
    if (reg)
      this.registries.set((reg[1] as string).toLowerCase(), e.resourceId.slice(0, (reg.index ?? 0) + reg[0].length));
    if (op === "microsoft.containerregistry/registries/importimage/action" && reg && succeeded) {
      const body = requestBody(e);
      const tags = Array.isArray(body?.targetTags)
        ? (body.targetTags as unknown[]).filter((t): t is string => typeof t === "string")
        : [];
      const src = body?.source as Record<string, unknown> | undefined;
      const source =
        src && typeof src.sourceImage === "string"
          ? `${typeof src.registryUri === "string" ? `${src.registryUri}/` : ""}${src.sourceImage}`
          : undefined;
      this.imports.push({
        ...summary(e),
        registryId: this.registries.get((reg[1] as string).toLowerCase()) as string,
        targetTags: tags,
        source,
      });
    }
  }

  /**
   * The write that last touched exactly `resourceId`. No fallback to a parent resource: a VM
   * restart by someone else must never be taken for the author of that VM's run command.
   */
  writerOf(resourceId: string): WriteSummary | undefined {
    return this.writes.get(resourceId.toLowerCase().replace(/\/+$/, ""));
  }

  registryId(loginServer: string): string | undefined {
    const name = loginServer.toLowerCase().split(".")[0] ?? "";
    return this.registries.get(name);
  }

  /** The import that brought `repo:tag` into the registry; by request body, else latest before `before`. */
  importOf(
    loginServer: string,
    repository: string,
    tags: readonly string[],
    before?: string,
  ): { imp: ImportSummary; inferred: boolean } | undefined {
    const regId = this.registryId(loginServer)?.toLowerCase();
    if (!regId) return undefined;
    const wanted = new Set(tags.map((t) => `${repository}:${t}`.toLowerCase()));
    const onRegistry = this.imports.filter((i) => i.registryId?.toLowerCase() === regId);
    const exact = onRegistry.filter((i) => i.targetTags.some((t) => wanted.has(t.toLowerCase())));
    if (exact.length > 0) return { imp: exact[exact.length - 1] as ImportSummary, inferred: false };
    if (!before) return undefined;
    // No request body: the import closest in time to the image's creation, within an hour.
    const created = Date.parse(before);
    let best: ImportSummary | undefined;
    let bestGap = IMPORT_LINK_WINDOW_MS;
    for (const i of onRegistry) {
      if (i.targetTags.length > 0) continue;
      const gap = Math.abs(Date.parse(i.time) - created);
      if (gap <= bestGap) {
        best = i;
        bestGap = gap;
      }
    }
    return best ? { imp: best, inferred: true } : undefined;
  }
}
