/**
 * Workspace collector: the Activity Log as a Log Analytics workspace holds it (the AzureActivity
 * table), read with @azure/monitor-query-logs. The workspace does the heavy lifting: the window
 * and the operation names the loaded rules need are pushed down into KQL, so only the events a
 * rule can match come back in full (`fromTable` makes them the same ActivityEvent records the
 * files path makes); every other event comes back summarised — counts, window, the earliest time
 * of each first-seen key, and the latest write per resource — and is handed to the engine as one
 * ObservationShare per slice, exactly what a worker thread hands back for the lines it cleared.
 *
 * Limits (Query API: 500,000 rows, ~100 MB per answer, partial results): the window is read in
 * slices (a day by default); a slice whose answer reaches the row cap or comes back partial is
 * split in half and read again, down to a second; only then is a partial answer kept, and the
 * scope becomes partial with the reason. Nothing is cut silently. docs/sources/workspace.md has
 * the KQL, the permissions and the decisions.
 */
import type { TokenCredential } from "@azure/core-auth";
import { RestError } from "@azure/core-rest-pipeline";
import {
  LogsQueryClient,
  type LogsQueryOptions,
  type LogsQueryResult,
  LogsQueryResultStatus,
  type LogsTable,
  type QueryTimeInterval,
} from "@azure/monitor-query-logs";
import { Attribution } from "../../azure/enrich/attribution.js";
import type { AzureSession } from "../../azure/live/session.js";
import { fromTable, readTable } from "../../azure/normalize/activity.js";
import type { Json } from "../../azure/normalize/util.js";
import { FirstSeenStage } from "../../engine/firstseen.js";
import { DEFAULT_LIMITS, MemoryState } from "../../engine/state.js";
import type { SourceKind } from "../../model/finding.js";
import type { ActivityObservation, CollectedItem, ObservationShare } from "../../model/records.js";
import { UsageError } from "../../util/errors.js";
import type { ScopeTally } from "../tally.js";
import {
  type CollectionPlan,
  type CollectOptions,
  type Collector,
  type PlanOptions,
  type ResumePoint,
  scopeWindow,
} from "../types.js";
import { baselineColumns, baselineQuery, eventsQuery, KqlValueError, type Slice, writesQuery } from "./kql.js";

export { kqlDatetime, kqlString } from "./kql.js";

/** The minimal client surface used (LogsQueryClient; tests may pass their own). */
export interface WorkspaceQueryClient {
  queryWorkspace(
    workspaceId: string,
    query: string,
    timespan: QueryTimeInterval,
    options?: LogsQueryOptions,
  ): Promise<LogsQueryResult>;
}

export interface WorkspaceOptions {
  /** The scan's live session: credential, `cloud.logs` (…/v1) and `cloud.logsScope`. */
  session?: AzureSession;
  /** Without a session: the credential, the query endpoint (…/v1) and its token scope. */
  credential?: TokenCredential;
  /** Default https://api.loganalytics.io/v1. */
  endpoint?: string;
  /** Default https://api.loganalytics.io/.default (what the SDK asks for whatever the endpoint). */
  scope?: string;
  /** Start of the window (ISO-8601 or Date); required. */
  since: string | Date;
  /** End of the window, inclusive; default now. */
  until?: string | Date;
  /**
   * The lower-cased operation names the loaded rules need (the pre-filter's list, which includes
   * what attribution parses). Those events come back in full, all others summarised. Undefined:
   * there is no pre-filter (a rule can match any operation), and every event comes back in full.
   */
  operations?: readonly string[];
  /**
   * The first-seen field tuples of the loaded rules (`firstSeenTuples(rules)`), spelled as the
   * rules spell them: the summary keys on exactly their fields. Default none.
   */
  firstSeen?: readonly (readonly string[])[];
  /** Bounds of the summaries' baselines and writes (the engine's limits). */
  limits?: { baselineKeys?: number; writers?: number };
  /** Width of the slices the window is read in (default one day). */
  sliceMs?: number;
  /** Rows per answer before a slice is split (default 20,000; the service's cap is 500,000). */
  rowLimit?: number;
  /** Narrowest slice (default one second): past it a capped or partial answer is kept and reported. */
  minSliceMs?: number;
  /** Server-side time limit per query (default 600 s, the service's maximum). */
  serverTimeoutInSeconds?: number;
  /** A client to use instead of building a LogsQueryClient (tests). */
  client?: WorkspaceQueryClient;
  /** The clock, for a default `until` (tests). */
  now?: () => Date;
  /** Incremental scans: where the workspace resumes (its watermark minus the overlap). */
  resume?: ResumePoint;
}

/** The workspace collector's plan: one scope, the workspace, with its resolved window. */
export interface WorkspacePlan extends CollectionPlan {
  source: "workspace";
  workspaceId: string;
  from: string;
  to: string;
}

function isWorkspacePlan(plan: CollectionPlan): plan is WorkspacePlan {
  return plan.source === "workspace" && typeof (plan as Partial<WorkspacePlan>).workspaceId === "string";
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_MS = 86_400_000;
const DEFAULT_ENDPOINT = "https://api.loganalytics.io/v1";
const DEFAULT_SCOPE = "https://api.loganalytics.io/.default";
/** The built-in role that reads a workspace (data/builtin-role-definitions.json: `*\/read` + analytics/query/action). */
const READER_ROLE = "Log Analytics Reader (73c42c96-874c-492b-b04d-ab87d138a893)";

function toMs(flag: string, v: string | Date): number {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be a date and time (ISO-8601), got '${String(v)}'`);
  return ms;
}

/** A failure that ends the scope: the workspace refused us (401, 403, 404) or the query was refused. */
class ScopeFailure extends Error {}

/** Dates (datetime columns, which the SDK converts) back to ISO-8601; the rest as sent. */
function rowObjects(t: LogsTable): Json[] {
  const names = t.columnDescriptors.map((c) => c.name ?? "");
  return t.rows.map((row) => {
    const o: Json = {};
    for (let i = 0; i < names.length; i++) {
      const v = row[i];
      o[names[i] as string] = v instanceof Date ? (Number.isNaN(v.getTime()) ? null : v.toISOString()) : v;
    }
    return o;
  });
}

function label(workspaceId: string, s: Slice): string {
  return `workspace ${workspaceId} ${new Date(s.from).toISOString()}…${new Date(s.to).toISOString()}`;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split(/\r?\n/)[0]?.slice(0, 300) ?? e.name;
  return String(e);
}

/** One sentence for a refused query, naming the role that fixes a 403. */
export function explainQueryError(workspaceId: string, e: unknown): { fatal: boolean; reason: string } {
  const status = e instanceof RestError ? e.statusCode : undefined;
  const code = e instanceof RestError ? e.code : undefined;
  const what = `${status ?? "error"}${code ? ` ${code}` : ""}: ${errorText(e)}`;
  if (status === 403)
    return {
      fatal: true,
      reason: `not allowed to query workspace ${workspaceId} (${what}). To fix: assign ${READER_ROLE} on the workspace (or Reader, whose */read includes Microsoft.OperationalInsights/workspaces/query/AzureActivity/read) to the identity running the scan`,
    };
  if (status === 401)
    return {
      fatal: true,
      reason: `the workspace ${workspaceId} refused the token (${what}); check the sign-in and the Log Analytics token scope`,
    };
  if (status === 404)
    return {
      fatal: true,
      reason: `workspace ${workspaceId} was not found (${what}); --workspace takes the workspace id (a GUID), not its name or resource id`,
    };
  if (status === 400) return { fatal: true, reason: `workspace ${workspaceId} rejected the query (${what})` };
  return { fatal: false, reason: what };
}

export class WorkspaceCollector implements Collector {
  readonly source: SourceKind = "workspace";

  constructor(
    private readonly workspaceId: string,
    private readonly options: WorkspaceOptions,
  ) {}

  /** Resolves the workspace, window and credential; usage errors before any query. */
  async plan(options: PlanOptions = {}): Promise<WorkspacePlan> {
    options.abortSignal?.throwIfAborted();
    const id = this.workspaceId.trim();
    if (!GUID.test(id))
      throw new UsageError(
        `--workspace takes a Log Analytics workspace id (a GUID, the workspace's "Workspace ID"), got '${this.workspaceId}'`,
      );
    const o = this.options;
    if (o.since === undefined) throw new UsageError("--workspace needs a start of the window (--since)");
    const from = toMs("--since", o.since);
    const to = o.until === undefined ? (o.now?.() ?? new Date()).getTime() : toMs("--until", o.until);
    if (from >= to) throw new UsageError("--since must be before --until");
    if (!o.client && !o.session && !o.credential)
      throw new UsageError("the workspace source needs a credential (a live session)");
    for (const n of ["sliceMs", "rowLimit", "minSliceMs", "serverTimeoutInSeconds"] as const) {
      const v = o[n];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TypeError(`${n} must be a positive integer`);
    }
    try {
      // Refuses what cannot become a KQL literal (a control character in an operation name) now.
      if (o.operations) eventsQuery({ from, to, closed: true }, o.operations, 1);
      if (o.firstSeen) baselineColumns(o.firstSeen);
    } catch (e) {
      if (e instanceof KqlValueError) throw new UsageError(e.message);
      throw e;
    }
    const { window } = scopeWindow(o.resume, "workspace", id, new Date(from), new Date(to));
    return {
      source: "workspace",
      scopes: [id],
      workspaceId: id,
      window,
      from: window.from as string,
      to: window.to as string,
    };
  }

  private client(): WorkspaceQueryClient {
    const o = this.options;
    if (o.client) return o.client;
    const credential = o.session?.credential ?? o.credential;
    if (!credential) throw new UsageError("the workspace source needs a credential (a live session)");
    const endpoint = o.session?.cloud.logs ?? o.endpoint ?? DEFAULT_ENDPOINT;
    // The SDK asks for https://api.loganalytics.io/.default whatever the endpoint, unless told:
    // its `audience` option is declared but not read (1.0.0), `credentials.scopes` is.
    const scope = o.session?.cloud.logsScope ?? o.scope ?? DEFAULT_SCOPE;
    return new LogsQueryClient(credential, {
      endpoint,
      credentials: { scopes: [scope] },
      ...(o.session
        ? o.session.queryClientOptions()
        : { retryOptions: { maxRetries: 6, retryDelayInMs: 800, maxRetryDelayInMs: 30_000 } }),
      userAgentOptions: { userAgentPrefix: "azure-exec-audit" },
    });
  }

  /** The initial slices of the window, oldest first; the last one closed. */
  private slices(plan: WorkspacePlan): Slice[] {
    const from = Date.parse(plan.from);
    const to = Date.parse(plan.to);
    const width = this.options.sliceMs ?? DAY_MS;
    const out: Slice[] = [];
    for (let a = from; a < to; a += width) out.push({ from: a, to: Math.min(to, a + width), closed: a + width >= to });
    return out;
  }

  async *collect(
    plan: CollectionPlan,
    { tally, abortSignal, pushdown }: CollectOptions,
  ): AsyncGenerator<readonly CollectedItem[]> {
    if (!isWorkspacePlan(plan))
      throw new TypeError("WorkspaceCollector.collect needs the plan its own plan() returned");
    const o = this.options;
    // What the options name, else the scan's pre-filter; neither: every event in full.
    const operations = o.operations ?? pushdown?.operations;
    const ops = operations ? [...new Set(operations.map((x) => x.toLowerCase()))].sort() : undefined;
    const tuples = o.firstSeen ?? pushdown?.firstSeen ?? [];
    const limits = { ...DEFAULT_LIMITS, ...pushdown?.limits, ...o.limits };
    let by: string[];
    try {
      by = baselineColumns(tuples);
      if (ops) eventsQuery({ from: 0, to: 1, closed: true }, ops, 1);
    } catch (e) {
      // A rule's operation name or field that cannot be written as KQL (a control character).
      if (e instanceof KqlValueError)
        throw new UsageError(`a loaded rule cannot be read from a workspace: ${e.message}`);
      throw e;
    }
    const slices = this.slices(plan);
    const kinds = ops ? 3 : 1;
    const scope = tally.open("workspace", plan.workspaceId, slices.length * kinds);
    scope.declareWindow(plan.window);
    const client = this.client();
    const run = new SliceReader(client, plan.workspaceId, scope, o, abortSignal);
    const origin = { shape: "activity-table", location: `workspace:${plan.workspaceId}` };
    try {
      for (const slice of slices) {
        abortSignal?.throwIfAborted();
        // Form 1: the events rules read, in full.
        for await (const rows of run.read(slice, (s, take) => eventsQuery(s, ops, take))) {
          const batch: CollectedItem[] = [];
          for (const row of rows) {
            const e = readTable(row, origin);
            if ("error" in e) {
              scope.unreadableRecord({ url: label(plan.workspaceId, slice) }, e.error);
              continue;
            }
            if ("unresolved" in e) {
              scope.skippedRecord("unresolved", { url: label(plan.workspaceId, slice) }, e.unresolved);
              continue;
            }
            scope.record(e.time);
            batch.push(e);
          }
          if (batch.length > 0) yield batch;
        }
        if (!ops) continue;
        // Forms 2 and 3: everything else, summarised into one share per slice.
        const share = await this.summarise(run, slice, ops, tuples, by, limits, origin, scope);
        if (share.observed > 0 || share.writes.writes.length > 0) yield [share];
      }
    } catch (e) {
      abortSignal?.throwIfAborted();
      if (e instanceof ScopeFailure) {
        scope.failed(e.message);
        return;
      }
      throw e;
    }
  }

  private async summarise(
    run: SliceReader,
    slice: Slice,
    ops: readonly string[],
    tuples: readonly (readonly string[])[],
    by: readonly string[],
    limits: { baselineKeys: number; writers: number },
    origin: { shape: string; location: string },
    scope: ScopeTally,
  ): Promise<ObservationShare> {
    const firstSeen = new FirstSeenStage(tuples, new MemoryState(), limits.baselineKeys);
    const attribution = new Attribution(new MemoryState().writers(), limits.writers);
    const share: ObservationShare = {
      kind: "observations",
      observed: 0,
      baselines: { baselines: [], dropped: [] },
      writes: { writes: [], registries: [], dropped: 0 },
    };
    const at = { file: origin.location, line: 0, offset: 0, length: 0, gzip: false };
    for await (const rows of run.read(slice, (s, take) => baselineQuery(s, ops, by, take))) {
      for (const r of rows) {
        const n = typeof r.Events === "number" ? r.Events : Number(r.Events ?? 0);
        const first = typeof r.FirstSeen === "string" ? r.FirstSeen : undefined;
        const last = typeof r.LastSeen === "string" ? r.LastSeen : first;
        if (!(n > 0) || !first) continue;
        share.observed += n;
        scope.recordMany(n, first, last);
        if (share.from === undefined || first < share.from) share.from = first;
        if (last && (share.to === undefined || last > share.to)) share.to = last;
        if (tuples.length === 0) continue;
        const text = (k: string) => (typeof r[k] === "string" && r[k] !== "" ? (r[k] as string) : undefined);
        const obs: ActivityObservation = { kind: "observation", time: first, operation: text("Operation") ?? "", at };
        const resourceId = text("TopResourceId");
        if (resourceId) obs.resourceId = resourceId;
        const principalId = text("PrincipalId");
        if (principalId) obs.principalId = principalId;
        const appId = text("AppId");
        if (appId) obs.appId = appId;
        const ip = text("CallerIpPrefix");
        if (ip) obs.callerIpAddress = ip;
        // Keys computed by the workspace as the normaliser computes them (kql.ts LEAN_EXTEND);
        // ipPrefix and topResource leave a prefix as it is.
        firstSeen.observeLean(obs);
      }
    }
    for await (const rows of run.read(slice, (s, take) => writesQuery(s, ops, take))) {
      for (const r of rows) {
        // The latest write of its kind on one resource, as a (narrow) table row.
        const e = fromTable(r, origin);
        if (e) attribution.observe(e);
      }
    }
    if (tuples.length > 0) share.baselines = firstSeen.share();
    share.writes = attribution.share();
    return share;
  }
}

type Build = (s: Slice, take: number) => string;

/**
 * Reads one query form over a slice: splits it while the answer is capped or partial, and
 * reports what cannot be helped by splitting.
 */
class SliceReader {
  private readonly rowLimit: number;
  private readonly minSliceMs: number;

  constructor(
    private readonly client: WorkspaceQueryClient,
    private readonly workspaceId: string,
    private readonly scope: ScopeTally,
    private readonly options: WorkspaceOptions,
    private readonly abortSignal: AbortSignal | undefined,
  ) {
    this.rowLimit = options.rowLimit ?? 20_000;
    this.minSliceMs = options.minSliceMs ?? 1000;
  }

  private async query(s: Slice, build: Build): Promise<LogsQueryResult | { error: unknown }> {
    // One more than the cap: an answer of rowLimit + 1 rows says the slice holds more.
    const q = build(s, this.rowLimit + 1);
    // The timespan is a superset of the slice; the query's own `between` decides exactly.
    const timespan = { startTime: new Date(s.from), endTime: new Date(Math.max(s.to, s.from + 1)) };
    try {
      return await this.client.queryWorkspace(this.workspaceId, q, timespan, {
        serverTimeoutInSeconds: this.options.serverTimeoutInSeconds ?? 600,
        abortSignal: this.abortSignal,
      });
    } catch (error) {
      this.abortSignal?.throwIfAborted();
      return { error };
    }
  }

  async *read(slice: Slice, build: Build): AsyncGenerator<Json[]> {
    const pending: Slice[] = [slice];
    let splits = 0;
    while (pending.length > 0) {
      this.abortSignal?.throwIfAborted();
      const s = pending.shift() as Slice;
      const res = await this.query(s, build);
      const where = { url: label(this.workspaceId, s) };
      if ("error" in res) {
        const { fatal, reason } = explainQueryError(this.workspaceId, res.error);
        if (fatal) throw new ScopeFailure(reason);
        // Retries exhausted on this slice (5xx, network): the rest of the window is still read.
        this.scope.partFailed(where, `query failed: ${reason}`);
        continue;
      }
      const partial = res.status === LogsQueryResultStatus.PartialFailure;
      const tables = partial ? res.partialTables : res.tables;
      const rows = tables[0] ? rowObjects(tables[0]) : [];
      const capped = rows.length > this.rowLimit;
      const splittable = s.to - s.from >= 2 * this.minSliceMs;
      if ((capped || partial) && splittable) {
        // Halves, oldest first, read before the rest of the pending slices.
        const mid = s.from + Math.floor((s.to - s.from) / 2);
        pending.unshift({ from: s.from, to: mid, closed: false }, { from: mid, to: s.to, closed: s.closed });
        splits++;
        continue;
      }
      if (partial) {
        const err = res.status === LogsQueryResultStatus.PartialFailure ? res.partialError : undefined;
        this.scope.partFailed(
          where,
          `partial result kept (${err?.code ?? "PartialError"}: ${err?.message ?? "no message"}${innerMessage(err)})`,
        );
      } else if (capped) {
        this.scope.partFailed(
          where,
          `more than ${this.rowLimit} rows in ${Math.round((s.to - s.from) / 1000)} s; the first ${rows.length} kept`,
        );
      }
      yield rows;
    }
    if (splits > 0) this.splits += splits;
  }

  /** Slices split because an answer was capped or partial (for tests and notes). */
  splits = 0;
}

function innerMessage(err: { innererror?: unknown; details?: unknown } | undefined): string {
  const details = Array.isArray(err?.details)
    ? (err.details as { message?: string; innererror?: { message?: string } }[])
    : [];
  const inner = details.map((d) => d.innererror?.message ?? d.message).filter(Boolean);
  return inner.length > 0 ? `; ${inner.join("; ").slice(0, 300)}` : "";
}
