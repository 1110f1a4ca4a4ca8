/**
 * Archive collector: the Activity Log as a diagnostic setting exports it to a Storage container
 * (`insights-activity-logs`, one JSON Lines blob per subscription and hour; layout.ts cites the
 * layout). `plan` checks the URL and finds the subscriptions; `collect` lists only the hours of
 * the window (by day and hour prefixes), streams each blob through the files collector's JSON
 * Lines reader and pre-filter, and reports one coverage scope per subscription. See
 * docs/sources/archive.md for use, permissions and decisions.
 */
import type { TokenCredential } from "@azure/core-auth";
import { AnonymousCredential, ContainerClient, RestError, type StoragePipelineOptions } from "@azure/storage-blob";
import { classify } from "../../azure/normalize/index.js";
import type { SourceKind } from "../../model/finding.js";
import type { AuditRecord, CollectedItem, LineRef } from "../../model/records.js";
import { UsageError } from "../../util/errors.js";
import { redactText } from "../../util/redact.js";
import { lineText, streamJsonLines } from "../files/json-stream.js";
import { takeLines } from "../files/lines.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions, ResumePoint, TimeWindow } from "../types.js";
import { listingPrefixes, parseBlobName, SUBSCRIPTIONS_PREFIX, subscriptionPrefix, windowHours } from "./layout.js";
import { type ArchiveUrl, parseArchiveUrl } from "./url.js";

export interface ArchiveOptions {
  /** The window to read; records outside [since, until] are dropped (and counted). */
  since: Date;
  until: Date;
  /** Used when the URL carries no SAS token (the session's credential); needs Storage Blob Data Reader. */
  credential?: TokenCredential;
  /** Subscriptions to read (any case); default every subscription folder in the container. */
  subscriptions?: string[];
  /**
   * Hours past `until` whose blobs are read too: a blob holds the events *received* in its hour,
   * so the last events of the window can sit in the next hour's blob (default 1; 0 to 24).
   */
  lateHours?: number;
  /**
   * Blob downloads started ahead of the one being read (default 8, 1 to 32): an hour's blob is
   * often small, so a request's latency, not its bytes, would otherwise set the pace. Each open
   * download holds only what its socket buffers until it is read.
   */
  concurrency?: number;
  /** Storage client options (retries, proxy, token audience); tests shorten the retries. */
  storageOptions?: StoragePipelineOptions;
  /** The clock (tests): hours that have not begun are not listed, and a SAS's expiry is checked. */
  now?: () => Date;
  /** Incremental scans: where each subscription's folder resumes (its watermark minus the overlap). */
  resume?: ResumePoint;
}

/** One subscription to read: its folder as the container spells it, absent when it has none. */
export interface ArchiveSubscription {
  id: string;
  folder?: string;
  scope: string;
  /** Incremental: the watermark this folder resumed from. */
  resumedFrom?: string;
}

function windowOf(plan: CollectionPlan, sub: ArchiveSubscription): TimeWindow | undefined {
  return sub.resumedFrom && plan.window ? { ...plan.window, resumedFrom: sub.resumedFrom } : plan.window;
}

export interface ArchivePlan extends CollectionPlan {
  source: "archive";
  /** The container URL without its query string. */
  base: string;
  subscriptions: ArchiveSubscription[];
  /** Starts (ms) of the hours whose blobs are read. */
  hours: number[];
  /** Why the container could not be read at all (403, no such container, unreachable). */
  failure?: string;
}

/** A download started ahead: its body to read, or why it failed. */
type Download = { body: NodeJS.ReadableStream & { destroy(): void } } | { error: unknown };

function isArchivePlan(plan: CollectionPlan): plan is ArchivePlan {
  return plan.source === "archive" && Array.isArray((plan as Partial<ArchivePlan>).subscriptions);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const READER_ROLE = "Storage Blob Data Reader";

/** The first line of an error's message, capped, with nothing secret in it. */
function firstLine(e: unknown, secret: string | undefined): string {
  let m = e instanceof Error ? e.message : String(e);
  if (secret) m = m.split(secret).join("REDACTED");
  const line = m.split(/\r?\n/).find((l) => l.trim() !== "") ?? m;
  return redactText(line.replace(/\s+/g, " ").trim().slice(0, 300));
}

/** A failure that ends the scope: access refused, the container gone, no sign-in. */
function isFatal(e: unknown): boolean {
  if (e instanceof RestError) return e.statusCode === 401 || e.statusCode === 403 || e.code === "ContainerNotFound";
  // Identity errors (no token) are not RestErrors and no retry helps either.
  return e instanceof Error && /CredentialUnavailable|AuthenticationRequired|AuthenticationError/.test(e.name);
}

export class ArchiveCollector implements Collector {
  readonly source: SourceKind = "archive";
  private url?: ArchiveUrl;
  private containerClient?: ContainerClient;

  constructor(
    private readonly containerUrl: string,
    private readonly options: ArchiveOptions,
  ) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The checked URL and a client for it (a SAS is used as is; otherwise the credential). */
  private client(): { url: ArchiveUrl; client: ContainerClient } {
    if (!this.url || !this.containerClient) {
      const url = parseArchiveUrl(this.containerUrl, this.now());
      if (!url.sas && !this.options.credential) {
        throw new UsageError(
          `--archive ${url.base} has no SAS token, so reading it needs a sign-in with the ${READER_ROLE} role on the container; or append a SAS token with read and list (sp=rl)`,
        );
      }
      const opts: StoragePipelineOptions = {
        userAgentOptions: { userAgentPrefix: "azure-exec-audit" },
        ...this.options.storageOptions,
      };
      this.containerClient = url.sas
        ? new ContainerClient(`${url.base}?${url.sas}`, new AnonymousCredential(), opts)
        : new ContainerClient(url.base, this.options.credential, opts);
      this.url = url;
    }
    return { url: this.url, client: this.containerClient };
  }

  /** One sentence on why reading failed, naming what to fix; never the SAS signature. */
  private explain(e: unknown, what: string): string {
    const { url } = this.client();
    const detail = firstLine(e, url.sas);
    if (e instanceof RestError) {
      const code = e.code ? ` ${e.code}` : "";
      if (e.statusCode === 403) {
        return url.sas
          ? `${what}: the SAS token was refused (403${code}); it must be valid now, allow read and list (sp=rl) on ${url.base}, and be allowed from this address`
          : `${what}: access denied (403${code}); the identity needs the ${READER_ROLE} role on the container ${url.base} (or its storage account), and the account's network rules must admit this machine`;
      }
      if (e.code === "ContainerNotFound") return `${what}: the container does not exist: ${url.base}`;
      if (e.statusCode === 401) return `${what}: the request was not authenticated (401${code}): ${detail}`;
      if (e.statusCode) return `${what} failed (${e.statusCode}${code}): ${detail}`;
      return `${what} failed: could not reach ${new URL(url.base).host} (${detail})`;
    }
    return `${what} failed: ${detail}`;
  }

  async plan(options: PlanOptions = {}): Promise<ArchivePlan> {
    const { until } = this.options;
    let { since } = this.options;
    if (!(since instanceof Date) || Number.isNaN(since.getTime()))
      throw new UsageError("--archive needs a valid --since time (ISO-8601)");
    if (!(until instanceof Date) || Number.isNaN(until.getTime()))
      throw new UsageError("--archive needs a valid --until time (ISO-8601)");
    if (since.getTime() > until.getTime())
      throw new UsageError(`--since (${since.toISOString()}) must not be after --until (${until.toISOString()})`);
    const late = this.options.lateHours ?? 1;
    if (!Number.isInteger(late) || late < 0 || late > 24)
      throw new UsageError(`the archive's late hours must be a whole number from 0 to 24, got '${late}'`);
    const conc = this.options.concurrency ?? 8;
    if (!Number.isInteger(conc) || conc < 1 || conc > 32)
      throw new UsageError(`the archive's concurrency must be a whole number from 1 to 32, got '${conc}'`);
    const given = this.options.subscriptions;
    for (const s of given ?? []) {
      if (!GUID.test(s)) throw new UsageError(`subscription '${s}' is not a subscription id (a GUID)`);
    }
    const { url, client } = this.client();
    options.abortSignal?.throwIfAborted();

    // The subscription folders, by one listing of the container's first levels.
    const found: string[] = [];
    let failure: string | undefined;
    try {
      for await (const item of client.listBlobsByHierarchy("/", {
        prefix: SUBSCRIPTIONS_PREFIX,
        abortSignal: options.abortSignal,
      })) {
        if (item.kind !== "prefix") continue;
        const folder = item.name.slice(SUBSCRIPTIONS_PREFIX.length).replace(/\/$/, "");
        if (folder !== "") found.push(folder);
      }
    } catch (e) {
      options.abortSignal?.throwIfAborted();
      failure = this.explain(e, "listing the archive's subscriptions");
    }
    found.sort();
    if (!failure && found.length === 0 && !given) {
      throw new UsageError(
        `${url.base} has no ${SUBSCRIPTIONS_PREFIX} folders, so it holds no Activity Log export: check that the URL names the insights-activity-logs container a diagnostic setting writes to`,
      );
    }
    const scopeOf = (folder: string) => `${url.base}/${subscriptionPrefix(folder).replace(/\/$/, "")}`;
    let subscriptions: ArchiveSubscription[];
    if (given) {
      const seen = new Set<string>();
      subscriptions = [];
      for (const id of given) {
        const key = id.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        const folder = found.find((f) => f.toLowerCase() === key);
        subscriptions.push(folder ? { id, folder, scope: scopeOf(folder) } : { id, scope: scopeOf(id.toUpperCase()) });
      }
    } else if (failure) {
      subscriptions = [{ id: "", scope: url.base }];
    } else {
      subscriptions = found.map((folder) => ({ id: folder.toLowerCase(), folder, scope: scopeOf(folder) }));
    }
    // Incremental: one listing of hours serves every folder, so it starts where the earliest one
    // resumes (a folder with no watermark reads the whole window); each scope names its own.
    const resume = this.options.resume;
    if (resume) {
      const starts = subscriptions.map((s) => resume(this.source, s.scope));
      if (starts.every((r) => r !== undefined && r.since.getTime() < until.getTime()))
        since = new Date(Math.min(...starts.map((r) => (r as { since: Date }).since.getTime())));
      for (const [i, r] of starts.entries()) if (r) (subscriptions[i] as ArchiveSubscription).resumedFrom = r.watermark;
    }
    const window: TimeWindow = { from: since.toISOString(), to: until.toISOString() };
    const plan: ArchivePlan = {
      source: "archive",
      scopes: subscriptions.map((s) => s.scope),
      window,
      base: url.base,
      subscriptions,
      hours: windowHours(since, until, late, this.now()),
    };
    if (failure) plan.failure = failure;
    return plan;
  }

  async *collect(plan: CollectionPlan, opts: CollectOptions): AsyncGenerator<readonly CollectedItem[]> {
    if (!isArchivePlan(plan)) throw new TypeError("ArchiveCollector.collect needs the plan its own plan() returned");
    const { tally, abortSignal } = opts;
    for (const sub of plan.subscriptions) {
      abortSignal?.throwIfAborted();
      if (plan.failure || !sub.folder) {
        const scope = tally.open(this.source, sub.scope, 0);
        scope.declareWindow(windowOf(plan, sub));
        scope.failed(
          plan.failure ??
            `the container has no ${subscriptionPrefix(sub.id.toUpperCase())} folder: no diagnostic setting exports this subscription's Activity Log here`,
        );
        continue;
      }
      yield* this.collectSubscription(plan, sub as Required<ArchiveSubscription>, opts);
    }
  }

  private async *collectSubscription(
    plan: ArchivePlan,
    sub: Required<ArchiveSubscription>,
    { tally, abortSignal, filter }: CollectOptions,
  ): AsyncGenerator<readonly CollectedItem[]> {
    const { client } = this.client();
    const hours = new Set(plan.hours);
    const blobs: string[] = [];
    const unlisted: { prefix: string; what: string }[] = [];
    let ignored = 0;
    let fatal: string | undefined;
    for (const prefix of listingPrefixes(sub.folder, plan.hours)) {
      abortSignal?.throwIfAborted();
      try {
        for await (const b of client.listBlobsFlat({ prefix, abortSignal })) {
          const p = parseBlobName(b.name);
          if (p && p.sub === sub.folder && hours.has(p.hourStart)) blobs.push(b.name);
          else ignored++;
        }
      } catch (e) {
        abortSignal?.throwIfAborted();
        if (isFatal(e)) {
          fatal = this.explain(e, "listing the archive");
          break;
        }
        unlisted.push({ prefix, what: this.explain(e, "listing") });
      }
    }
    const scope = tally.open(this.source, sub.scope, blobs.length + unlisted.length);
    scope.declareWindow(windowOf(plan, sub));
    if (fatal) {
      scope.failed(fatal);
      return;
    }
    for (const u of unlisted) scope.partFailed({ file: u.prefix }, `could not be listed (${u.what})`);
    blobs.sort();
    const since = Date.parse(plan.window?.from as string);
    const until = Date.parse(plan.window?.to as string);
    const outside = { n: 0 };
    // Downloads run ahead of the reading (in order), at most `concurrency` open at once.
    const ahead = this.options.concurrency ?? 8;
    const pending: Promise<Download>[] = [];
    let next = 0;
    const fill = () => {
      while (pending.length < ahead && next < blobs.length)
        pending.push(this.startDownload(blobs[next++] as string, abortSignal));
    };
    try {
      for (const name of blobs) {
        fill();
        const download = await (pending.shift() as Promise<Download>);
        const stop = yield* this.readBlob(
          plan.base,
          name,
          download,
          scope,
          { since, until, outside },
          filter,
          abortSignal,
        );
        if (stop) {
          scope.failed(stop);
          return;
        }
      }
    } finally {
      // Downloads started but not read (the scope stopped, the scan was aborted): close them.
      for (const p of pending.splice(0)) void p.then((d) => "body" in d && d.body.destroy());
    }
    scope.note(
      `${blobs.length} hourly blob(s) read for ${plan.hours.length} hour(s); an hour without a blob had no events`,
    );
    if (outside.n > 0) {
      scope.note(`${outside.n} record(s) outside ${plan.window?.from} – ${plan.window?.to} dropped`);
    }
    if (ignored > 0) scope.note(`${ignored} other blob(s) under the hour folders ignored (not m=00/PT1H.json)`);
  }

  /** Starts one blob's download; the outcome (a body or an error) is read in order later. */
  private startDownload(name: string, abortSignal: AbortSignal | undefined): Promise<Download> {
    const { client } = this.client();
    return client
      .getBlobClient(name)
      .download(0, undefined, { abortSignal, maxRetryRequests: 5 })
      .then(
        (res) => {
          const body = res.readableStreamBody as (NodeJS.ReadableStream & { destroy(): void }) | undefined;
          return body ? { body } : { error: new Error("the download has no body") };
        },
        (error: unknown) => ({ error }),
      );
  }

  /** Streams one blob; returns a reason when the whole scope must stop (access refused). */
  private async *readBlob(
    base: string,
    name: string,
    download: Download,
    scope: ScopeTally,
    window: { since: number; until: number; outside: { n: number } },
    filter: CollectOptions["filter"],
    abortSignal: AbortSignal | undefined,
  ): AsyncGenerator<readonly CollectedItem[], string | undefined> {
    const location = `${base}/${name}`;
    const inWindow = (t: string | undefined): boolean => {
      if (t === undefined) return true;
      const ms = Date.parse(t);
      if (Number.isNaN(ms) || (ms >= window.since && ms <= window.until)) return true;
      window.outside.n++;
      return false;
    };
    try {
      if ("error" in download) throw download.error;
      for await (const items of streamJsonLines(download.body as AsyncIterable<Buffer>, { filter })) {
        abortSignal?.throwIfAborted();
        const batch = takeLines(items, { shown: name, location, gzip: false, scope, keep: inWindow });
        if (batch.length > 0) yield batch;
      }
      return undefined;
    } catch (e) {
      if ("body" in download) download.body.destroy();
      // An abort is not a broken blob: it ends the scan.
      abortSignal?.throwIfAborted();
      if (isFatal(e)) return this.explain(e, `reading ${name}`);
      scope.partFailed({ file: name }, `could not be read (${this.explain(e, "download")})`);
      return undefined;
    }
  }

  /**
   * Lines yielded as observations, read in full: one ranged download per line (its offset and
   * length), for the few events attribution needs. Refs of other collectors are left alone.
   */
  async readBack(refs: readonly LineRef[]): Promise<AuditRecord[]> {
    const { url, client } = this.client();
    const prefix = `${url.base}/`;
    const out: AuditRecord[] = [];
    for (const ref of refs) {
      if (!ref.file.startsWith(prefix) || ref.gzip) continue;
      const name = ref.file.slice(prefix.length);
      let value: unknown;
      try {
        if (ref.length <= 0) continue; // A count of 0 would download the whole blob.
        const bytes = await client.getBlobClient(name).downloadToBuffer(ref.offset, ref.length);
        value = JSON.parse(lineText(bytes, ref.line));
      } catch {
        continue; // It was read once as an event; attribution then names the line without its summary.
      }
      const c = classify(value, { location: ref.file, index: ref.line });
      if ("records" in c) out.push(...c.records);
    }
    return out;
  }
}
