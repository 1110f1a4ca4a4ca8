/**
 * The Activity Log of each subscription in scope, read live through @azure/arm-monitor
 * (`activityLogs.list`, REST `GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/
 * management/values`). The only server-side filter that applies to a whole subscription is the
 * time window (`eventTimestamp ge … and eventTimestamp le …`; the API allows one more condition,
 * on a resource group, resource, provider or correlation id, none of which narrows a
 * subscription-wide audit), so every event in the window is read, page by page, newest first.
 *
 * Each page's body is captured as the REST API sent it and mapped by the REST normaliser (the
 * same as `az monitor activity-log list` output read from a file); the SDK's models are not used.
 * Events are deduplicated by eventDataId: pages can shift while new events arrive during a read.
 */
import { MonitorClient } from "@azure/arm-monitor";
import { BodyCapture, explain, stripQuery } from "../../azure/live/arm.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { readRest } from "../../azure/normalize/activity.js";
import { str } from "../../azure/normalize/util.js";
import { keyHash } from "../../engine/state.js";
import type { CollectedItem } from "../../model/records.js";
import {
  type CollectionPlan,
  type CollectOptions,
  type Collector,
  type PlanOptions,
  type ResumePoint,
  scopeWindow,
} from "../types.js";

/** How late an event may still arrive after its time (Microsoft: typically within 15 minutes). */
export const LATE_EVENTS_MS = 15 * 60 * 1000;

export interface LiveWindow {
  since: Date;
  until: Date;
}

export const NEEDS_ACTIVITY_LOG = {
  what: "the Activity Log",
  role: "Reader (Microsoft.Insights/eventtypes/values/read)",
};

export class ActivityLogCollector implements Collector {
  readonly source = "activity-log" as const;

  constructor(
    private readonly session: AzureSession,
    private readonly scope: LiveScope,
    private readonly window: LiveWindow,
    /** When the scan runs (for the late-events note); default now. */
    private readonly now: () => Date = () => new Date(),
    /** Incremental scans: where each subscription resumes (its watermark minus the overlap). */
    private readonly resume?: ResumePoint,
  ) {}

  private scopeWindow(id: string) {
    return scopeWindow(this.resume, this.source, `subscription ${id}`, this.window.since, this.window.until);
  }

  async plan(options: PlanOptions = {}): Promise<CollectionPlan> {
    const subs = await this.scope.subscriptions(options.abortSignal);
    // The plan's window starts where the earliest scope does: first-seen learning counts from there.
    const since = Math.min(...subs.map((s) => this.scopeWindow(s.id).since.getTime()), this.window.until.getTime());
    return {
      source: this.source,
      scopes: subs.map((s) => s.id),
      window: {
        from: new Date(subs.length > 0 ? since : this.window.since.getTime()).toISOString(),
        to: this.window.until.toISOString(),
      },
    };
  }

  async *collect(plan: CollectionPlan, options: CollectOptions): AsyncGenerator<readonly CollectedItem[]> {
    const { until } = this.window;
    for (const id of plan.scopes) {
      const { since, window } = this.scopeWindow(id);
      const filter = `eventTimestamp ge '${since.toISOString()}' and eventTimestamp le '${until.toISOString()}'`;
      const scope = options.tally.open(this.source, `subscription ${id}`);
      scope.declareWindow(window);
      if (this.now().getTime() - until.getTime() < LATE_EVENTS_MS)
        scope.note("events of the last 15 minutes may still be arriving in the Activity Log (a later scan reads them)");
      const capture = new BodyCapture();
      const client = new MonitorClient(this.session.credential, id, this.session.armClientOptions(capture.policy));
      const seen = new Set<number>();
      let index = 0;
      let duplicates = 0;
      try {
        for await (const page of capture.pages(
          client.activityLogs.list(filter, { abortSignal: options.abortSignal }),
        )) {
          const location = stripQuery(page.url);
          const batch: CollectedItem[] = [];
          for (const item of page.items) {
            index++;
            const eventId = str(item.eventDataId);
            if (eventId) {
              const k = keyHash(eventId);
              if (seen.has(k)) {
                duplicates++;
                continue;
              }
              seen.add(k);
            }
            const e = readRest(item, { shape: "activity-rest", location, index });
            if ("error" in e) {
              scope.unreadableRecord({ url: location, line: index }, e.error);
              continue;
            }
            if ("unresolved" in e) {
              scope.skippedRecord("unresolved", { url: location, line: index }, e.unresolved);
              continue;
            }
            scope.record(e.time);
            batch.push(e);
          }
          if (batch.length > 0) yield batch;
        }
      } catch (e) {
        if (options.abortSignal?.aborted) throw e;
        scope.missed(explain(e, `subscription ${id}`, NEEDS_ACTIVITY_LOG));
      }
      if (duplicates > 0) scope.note(`${duplicates} event(s) listed twice while paging were read once`);
    }
  }
}
