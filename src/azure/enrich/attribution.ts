/**
 * Who wrote what: what the Activity Log says about resources, kept while the stream passes so
 * configuration findings (a run command's script, a function app's package URL, an image's
 * entrypoint) can name who wrote the resource and when, and images can name the import that
 * brought them in. One small entry per written resource, kept in the engine state's writer store.
 */
import { intern, internPrincipal } from "../../engine/compact.js";
import { HashStore, keyHash, type Store } from "../../engine/state.js";
import type { ActivityEvent, ActivityObservation, ContainerImage, LineRef, Principal } from "../../model/records.js";
import { requestBody } from "../normalize/activity.js";

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

/** The write's summary; values that repeat across writes (who, operation, subscription, file) kept once. */
function summary(e: ActivityEvent): WriteSummary {
  return {
    principal: internPrincipal(e.principal),
    time: e.time,
    operation: intern(e.operationName),
    eventId: e.id,
    correlationId: e.correlationId,
    callerIpAddress: intern(e.callerIpAddress),
    subscriptionId: intern(e.subscriptionId),
    location: intern(e.origin.location),
    index: e.origin.index,
  };
}

/** How far apart an import and an image's creation may be to be linked without a request body. */
const IMPORT_LINK_WINDOW_MS = 60 * 60 * 1000;

/**
 * The latest write on one resource: its summary, or — for an event the pre-filter cleared —
 * where its line is, read in full at the end only if a configuration record needs its author.
 */
interface Write {
  time: string;
  succeeded: boolean;
  /** Where the event is (file, then line or element), to choose between writes at the same instant. */
  file: string;
  index: number;
  summary?: WriteSummary;
  lean?: LineRef;
}

/** Whether a write at `time` replaces `prev` as the one that counts: successful beats failed, later beats earlier. */
function replaces(prev: Write | undefined, w: Write): boolean {
  if (!prev) return true;
  if (w.succeeded !== prev.succeeded) return w.succeeded;
  // The later write; at the same instant the one later in the input (by place, not arrival).
  if (w.time !== prev.time) return w.time > prev.time;
  return w.file !== prev.file ? w.file > prev.file : w.index >= prev.index;
}

/** Whether a lower-cased operation writes or acts on its resource (what attribution keeps). */
export function isWrite(operation: string): boolean {
  return operation.endsWith("/write") || operation.endsWith("/action");
}

const REGISTRY = /\/providers\/microsoft\.containerregistry\/registries\/([^/]+)/i;

export class Attribution {
  /** Registry login server → tags and creation time of the images read. */
  private readonly imageTags = new Map<string, { tags: readonly string[]; created?: string }>();

  /** Writes on resources past the limit, not kept. */
  droppedWriters = 0;

  constructor(
    /** Lower-cased resource id → latest successful (else latest) write/action on it. */
    private readonly writes: Store<Write, number>,
    private readonly limit = Number.POSITIVE_INFINITY,
    /** Successful image imports by event id (keyHash), read again or carried from earlier scans once each. */
    private readonly imports: Store<ImportSummary, number> = new HashStore<ImportSummary>(),
  ) {}

  private keepWrite(key: number, w: Write): void {
    const prev = this.writes.get(key);
    if (!replaces(prev, w)) return;
    if (!prev && this.writes.size >= this.limit) {
      this.droppedWriters++;
      return;
    }
    this.writes.set(key, w);
  }

  /** Lower-cased registry name → registry resource id. */
  private registries = new Map<string, string>();

  /** Remembers an image's tags so payload findings from it can find its import. */
  observeImage(img: ContainerImage): void {
    this.imageTags.set(img.id, { tags: img.tags, created: img.createdTime });
  }

  imageInfo(imageId: string): { tags: readonly string[]; created?: string } | undefined {
    return this.imageTags.get(imageId);
  }

  /** The import that brought an image (`registry/repo@digest`) in, as far as the log tells. */
  importFor(imageId: string): { imp: ImportSummary; inferred: boolean } | undefined {
    const { server, repository } = splitImage(imageId);
    const known = this.imageTags.get(imageId);
    return this.importOf(server, repository, known?.tags ?? [], known?.created);
  }

  /** The registry resource id an image lives in. */
  registryFor(imageId: string): string | undefined {
    return this.registryId(splitImage(imageId).server);
  }

  noteRegistry(resourceId: string): RegExpExecArray | null {
    const reg = REGISTRY.exec(resourceId);
    if (reg) this.keepRegistry((reg[1] as string).toLowerCase(), resourceId.slice(0, (reg.index ?? 0) + reg[0].length));
    return reg;
  }

  /** One id per registry name; of its spellings (case) the smallest, so the read order does not choose. */
  private keepRegistry(name: string, id: string): void {
    const prev = this.registries.get(name);
    if (prev === undefined || id < prev) this.registries.set(name, id);
  }

  /** Lean writes and registries as plain data (what a worker thread sends back). */
  share(): { writes: [number, unknown][]; registries: [string, string][]; dropped: number } {
    return {
      writes: [...(this.writes as HashStore<Write>).entries()],
      registries: [...this.registries],
      dropped: this.droppedWriters,
    };
  }

  /** A share built elsewhere: each write and registry merged as if observed here, in any order. */
  absorb(part: { writes: [number, unknown][]; registries: [string, string][]; dropped: number }): void {
    for (const [k, v] of part.writes) {
      // Each write from a worker thread carries its own copy of the file's path.
      const w = v as Write;
      w.file = intern(w.file);
      if (w.lean) w.lean.file = w.file;
      this.keepWrite(k, w);
    }
    for (const [name, id] of part.registries) this.keepRegistry(name, id);
    this.droppedWriters += part.dropped;
  }

  /** An event the pre-filter cleared: the same bookkeeping, with a pointer instead of a summary. */
  observeLean(o: ActivityObservation): void {
    if (!o.resourceId || !isWrite(o.operation)) return;
    this.observeWrite(keyHash(o.resourceId), o.time, o.status === "Succeeded", o.at);
    this.noteRegistry(o.resourceId);
  }

  /**
   * A write or action cleared by the pre-filter, by its resource id's keyHash, where its line is
   * (read back only if a configuration record needs its author). The caller notes the registry
   * (`noteRegistry`) of a resource id that names one.
   */
  observeWrite(key: number, time: string, succeeded: boolean, lean: LineRef): void {
    this.keepWrite(key, { time, succeeded, file: lean.file, index: lean.line, lean });
  }

  /** Lines to read in full: the latest writes, cleared by the pre-filter, of resources in `ids`. */
  pendingLines(ids: Iterable<string>): LineRef[] {
    const out: LineRef[] = [];
    for (const id of ids) {
      const w = this.writes.get(keyHash(id.replace(/\/+$/, "")));
      if (w?.lean && !w.summary) out.push(w.lean);
    }
    return out;
  }

  /** The full event of a pending line (read back by the collector). */
  resolve(e: ActivityEvent): void {
    if (!e.resourceId) return;
    const key = keyHash(e.resourceId);
    const w = this.writes.get(key);
    if (w?.lean) this.writes.set(key, { ...w, summary: summary(e) });
  }

  observe(e: ActivityEvent): void {
    const op = e.operation;
    if (!e.resourceId || !isWrite(op)) return;
    const key = keyHash(e.resourceId);
    const succeeded = e.status === "Succeeded";
    this.keepWrite(key, {
      time: e.time,
      succeeded,
      file: intern(e.origin.location),
      index: e.origin.index ?? 0,
      summary: summary(e),
    });
    const reg = this.noteRegistry(e.resourceId);
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
      if (this.imports.get(keyHash(e.id)) === undefined && this.imports.size >= this.limit) {
        this.droppedWriters++;
        return;
      }
      this.imports.set(keyHash(e.id), {
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
    return this.writes.get(keyHash(resourceId.replace(/\/+$/, "")))?.summary;
  }

  registryId(loginServer: string): string | undefined {
    const known = this.loginServers.get(loginServer.toLowerCase());
    if (known) return this.registries.get(known) ?? this.registryIds.get(known);
    const name = loginServer.toLowerCase().split(".")[0] ?? "";
    return this.registries.get(name);
  }

  /** Login server → registry name, from registry resources read (their `loginServer` property). */
  private loginServers = new Map<string, string>();
  /** Registry name → id, from registry resources (when the Activity Log never named it). */
  private registryIds = new Map<string, string>();

  /**
   * A registry resource says which login server it answers on: a live scan names images by it,
   * which is not always `<name>.azurecr.io` (a sovereign cloud's suffix, a private cloud).
   */
  noteLoginServer(loginServer: string, registryResourceId: string): void {
    const reg = REGISTRY.exec(registryResourceId);
    if (!reg) return;
    const name = (reg[1] as string).toLowerCase();
    this.loginServers.set(loginServer.toLowerCase(), name);
    const id = registryResourceId.slice(0, (reg.index ?? 0) + reg[0].length);
    const prev = this.registryIds.get(name);
    if (prev === undefined || id < prev) this.registryIds.set(name, id);
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
    const onRegistry = [...this.imports.values()].filter((i) => i.registryId?.toLowerCase() === regId);
    const exact = onRegistry.filter((i) => i.targetTags.some((t) => wanted.has(t.toLowerCase())));
    // The latest import that named the tag (ties: by event id), whatever the order they were read in.
    const latest = (a: ImportSummary, b: ImportSummary) =>
      a.time > b.time || (a.time === b.time && a.eventId > b.eventId) ? a : b;
    if (exact.length > 0) return { imp: exact.reduce(latest), inferred: false };
    if (!before) return undefined;
    // No request body: the import closest in time to the image's creation, within an hour.
    const created = Date.parse(before);
    let best: ImportSummary | undefined;
    let bestGap = IMPORT_LINK_WINDOW_MS;
    for (const i of onRegistry) {
      if (i.targetTags.length > 0) continue;
      const gap = Math.abs(Date.parse(i.time) - created);
      if (gap < bestGap || (gap === bestGap && (!best || latest(i, best) === i))) {
        best = i;
        bestGap = gap;
      }
    }
    return best ? { imp: best, inferred: true } : undefined;
  }
}

/** `registry/repo@digest` → registry login server and repository. */
function splitImage(imageId: string): { server: string; repository: string } {
  const slash = imageId.indexOf("/");
  const server = imageId.slice(0, slash);
  let rest = imageId.slice(slash + 1);
  const at = rest.indexOf("@");
  if (at >= 0) rest = rest.slice(0, at);
  return { server, repository: rest };
}
