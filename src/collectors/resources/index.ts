/**
 * Resource configuration that carries what ran (docs/payloads.md): the Activity Log records that
 * a run command or an extension was written, never the script. Inventory through Azure Resource
 * Graph (@azure/arm-resourcegraph): one query over every subscription in scope for the resource
 * types below, paged with its skip token, so a tenant of hundreds of subscriptions costs a few
 * calls. Rows carry each resource's properties as ARM's GET does; for virtual machines, scale sets
 * and Arc machines the children that hold scripts (run commands, extensions) are then read from
 * ARM per machine. Each body becomes an ArmResource record, and payload extraction does the rest.
 */
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { ArmReader, BodyCapture, explain, stripQuery } from "../../azure/live/arm.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { toArmResource } from "../../azure/normalize/resources.js";
import { isObj, type Json, str } from "../../azure/normalize/util.js";
import type { CollectedItem } from "../../model/records.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";

/** Resource types inventoried (lower case) and whether their rows are payload-bearing records themselves. */
export const INVENTORY_TYPES: Record<string, { record: boolean; children?: { path: string; apiVersion: string }[] }> = {
  "microsoft.compute/virtualmachines": {
    record: false,
    children: [
      // Compute VirtualMachineRunCommands_List / VirtualMachineExtensions_List (2024-07-01).
      { path: "runCommands?$expand=instanceView", apiVersion: "2024-07-01" },
      { path: "extensions", apiVersion: "2024-07-01" },
    ],
  },
  "microsoft.compute/virtualmachinescalesets": {
    record: true,
    children: [{ path: "extensions", apiVersion: "2024-07-01" }],
  },
  "microsoft.hybridcompute/machines": {
    record: false,
    children: [
      { path: "extensions", apiVersion: "2024-07-10" },
      { path: "runCommands", apiVersion: "2024-07-10" },
    ],
  },
  "microsoft.containerinstance/containergroups": { record: true },
  "microsoft.app/jobs": { record: true },
  "microsoft.app/containerapps": { record: true },
  "microsoft.resources/deploymentscripts": { record: true },
  "microsoft.logic/workflows": { record: true },
  "microsoft.automation/automationaccounts": {
    record: false,
    children: [{ path: "runbooks", apiVersion: "2023-11-01" }],
  },
  "microsoft.virtualmachineimages/imagetemplates": { record: true },
};

const NEEDS_GRAPH = { what: "the resource inventory (Resource Graph)", role: "Reader" };
const NEEDS_CHILDREN = {
  what: "run commands and extensions",
  role: "Reader (Microsoft.Compute/virtualMachines/*/read)",
};

/** Rows per Resource Graph page (its maximum is 1000). */
const PAGE = 1000;
/** Subscriptions per Resource Graph query (its limit). */
const SUBSCRIPTION_BATCH = 1000;

export class ResourcesCollector implements Collector {
  readonly source = "resources" as const;

  constructor(
    private readonly session: AzureSession,
    private readonly scope: LiveScope,
  ) {}

  async plan(options: PlanOptions = {}): Promise<CollectionPlan> {
    const subs = await this.scope.subscriptions(options.abortSignal);
    return { source: this.source, scopes: subs.map((s) => s.id) };
  }

  async *collect(plan: CollectionPlan, options: CollectOptions): AsyncGenerator<readonly CollectedItem[]> {
    const abortSignal = options.abortSignal;
    const scopes = new Map<string, ScopeTally>(
      plan.scopes.map((id) => [id.toLowerCase(), options.tally.open(this.source, `subscription ${id}`)]),
    );
    const capture = new BodyCapture();
    const graph = new ResourceGraphClient(this.session.credential, this.session.armClientOptions(capture.policy));
    const arm = new ArmReader(this.session.credential, this.session.armClientOptions());
    const types = Object.keys(INVENTORY_TYPES)
      .map((t) => `'${t}'`)
      .join(", ");
    const query = `Resources | where type in~ (${types})`;
    const rows: { row: Json; at: string; index: number }[] = [];
    for (let b = 0; b < plan.scopes.length; b += SUBSCRIPTION_BATCH) {
      const batch = plan.scopes.slice(b, b + SUBSCRIPTION_BATCH);
      let skipToken: string | undefined;
      let index = 0;
      try {
        do {
          const token = skipToken;
          const { url, body } = await capture.body(() =>
            graph.resources(
              { query, subscriptions: batch, options: { top: PAGE, ...(token ? { skipToken: token } : {}) } },
              { abortSignal },
            ),
          );
          const data = Array.isArray(body.data) ? body.data.filter(isObj) : [];
          for (const row of data) rows.push({ row, at: stripQuery(url), index: ++index });
          skipToken = str(body.$skipToken) ?? str(body.skipToken);
        } while (skipToken);
      } catch (e) {
        if (abortSignal?.aborted) throw e;
        for (const id of batch) scopes.get(id.toLowerCase())?.missed(explain(e, `subscription ${id}`, NEEDS_GRAPH));
      }
    }
    /** Child reads that failed, per subscription: one reason with the count, not one per machine. */
    const childFailures = new Map<ScopeTally, { first: string; count: number }>();
    for (const { row, at, index } of rows) {
      const id = str(row.id);
      const type = str(row.type)?.toLowerCase();
      const sub =
        str(row.subscriptionId)?.toLowerCase() ??
        (id ? /^\/subscriptions\/([^/]+)/i.exec(id)?.[1]?.toLowerCase() : undefined);
      const scope = sub ? scopes.get(sub) : undefined;
      const spec = type ? INVENTORY_TYPES[type] : undefined;
      if (!id || !spec || !scope) continue;
      const out: CollectedItem[] = [];
      if (spec.record) {
        const r = toArmResource(row, { shape: "arm-resource", location: at, index });
        if (r) {
          scope.record();
          out.push(r);
        } else scope.unreadableRecord({ url: at, line: index }, "is not an ARM resource");
      }
      for (const child of spec.children ?? []) {
        try {
          const [path, query] = child.path.split("?");
          for await (const page of arm.list(
            `${id}/${path}${query ? `?${query}` : ""}`,
            child.apiVersion,
            abortSignal,
          )) {
            for (const [i, item] of page.items.entries()) {
              const r = toArmResource(item, { shape: "arm-resource", location: stripQuery(page.url), index: i + 1 });
              if (!r) {
                scope.unreadableRecord({ url: stripQuery(page.url), line: i + 1 }, "is not an ARM resource");
                continue;
              }
              scope.record();
              out.push(r);
            }
          }
        } catch (e) {
          if (abortSignal?.aborted) throw e;
          const f = childFailures.get(scope);
          if (f) f.count++;
          else childFailures.set(scope, { first: explain(e, id, NEEDS_CHILDREN), count: 1 });
        }
      }
      if (out.length > 0) yield out;
    }
    for (const [scope, f] of childFailures)
      scope.missed(f.count === 1 ? f.first : `${f.first} (and ${f.count - 1} more reads of machines like it)`);
  }
}
