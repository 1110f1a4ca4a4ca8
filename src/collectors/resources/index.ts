/**
 * Resource configuration that carries what ran (docs/payloads.md): the Activity Log records that
 * a run command or an extension was written, never the script. Inventory through Azure Resource
 * Graph (@azure/arm-resourcegraph): one query over every subscription in scope for the resource
 * types below, paged with its skip token, so a tenant of hundreds of subscriptions costs a few
 * calls. Rows carry each resource's properties as ARM's GET does; for virtual machines, scale sets
 * and Arc machines the children that hold scripts (run commands, extensions) are then read from
 * ARM per machine, for Automation accounts their runbooks and each runbook's script (published and
 * draft: text, not JSON), and a Logic App or deployment script whose row lacks its definition or
 * script is read again by id. Each body becomes an ArmResource record, and payload extraction does
 * the rest.
 */
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { RUNBOOK_CONTENT_KEY } from "../../azure/enrich/payloads.js";
import { ArmReader, BodyCapture, explain, type Needs, stripQuery } from "../../azure/live/arm.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { toArmResource } from "../../azure/normalize/resources.js";
import { isObj, type Json, str } from "../../azure/normalize/util.js";
import { type CollectedItem, MAX_PAYLOAD_CHARS } from "../../model/records.js";
import type { ScopeTally } from "../tally.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";

const NEEDS_MACHINE_CHILDREN: Needs = {
  what: "run commands and extensions",
  role: "Reader (Microsoft.Compute/virtualMachines/*/read)",
};
const NEEDS_RUNBOOKS: Needs = {
  what: "Automation runbooks",
  role: "Reader (Microsoft.Automation/automationAccounts/runbooks/read)",
};
// ARM names the action of a GET after the path's type segments: …/runbooks/{name}/content is
// runbooks/content/read; in …/runbooks/{name}/draft/content, `content` is the draft's name, so the
// action is runbooks/draft/read (the operations list has no draft/content/read).
const NEEDS_RUNBOOK_CONTENT: Needs = {
  what: "published runbook content",
  role: "Reader (Microsoft.Automation/automationAccounts/runbooks/content/read)",
};
const NEEDS_RUNBOOK_DRAFT: Needs = {
  what: "runbook draft content",
  role: "Reader (Microsoft.Automation/automationAccounts/runbooks/draft/read)",
};
const NEEDS_WORKFLOW: Needs = {
  what: "Logic App definitions",
  role: "Reader (Microsoft.Logic/workflows/read)",
};
const NEEDS_DEPLOYMENT_SCRIPT: Needs = {
  what: "deployment scripts",
  role: "Reader (Microsoft.Resources/deploymentScripts/read)",
};

interface ChildSpec {
  path: string;
  apiVersion: string;
  needs: Needs;
}

/**
 * A row Resource Graph gave without the property its payload is in: the resource is read again by
 * id. Resource Graph returns the properties resource providers return, but it is fed by change
 * notifications and a periodic full scan (learn.microsoft.com/azure/governance/resource-graph/overview,
 * "How Resource Graph is kept current"), so a row may lag behind ARM; nothing documents that it
 * keeps these two properties in full, so their absence is not taken as "none".
 */
interface Refetch {
  lacks(properties: Json): boolean;
  apiVersion: string;
  needs: Needs;
}

/** Resource types inventoried (lower case) and whether their rows are payload-bearing records themselves. */
export const INVENTORY_TYPES: Record<string, { record: boolean; children?: ChildSpec[]; refetch?: Refetch }> = {
  "microsoft.compute/virtualmachines": {
    record: false,
    children: [
      // Compute VirtualMachineRunCommands_List / VirtualMachineExtensions_List (2024-07-01).
      { path: "runCommands?$expand=instanceView", apiVersion: "2024-07-01", needs: NEEDS_MACHINE_CHILDREN },
      { path: "extensions", apiVersion: "2024-07-01", needs: NEEDS_MACHINE_CHILDREN },
    ],
  },
  "microsoft.compute/virtualmachinescalesets": {
    record: true,
    children: [{ path: "extensions", apiVersion: "2024-07-01", needs: NEEDS_MACHINE_CHILDREN }],
  },
  "microsoft.hybridcompute/machines": {
    record: false,
    children: [
      { path: "extensions", apiVersion: "2024-07-10", needs: NEEDS_MACHINE_CHILDREN },
      { path: "runCommands", apiVersion: "2024-07-10", needs: NEEDS_MACHINE_CHILDREN },
    ],
  },
  "microsoft.containerinstance/containergroups": { record: true },
  "microsoft.app/jobs": { record: true },
  "microsoft.app/containerapps": { record: true },
  // Resources 2023-08-01 DeploymentScripts_Get: a script has scriptContent or primaryScriptUri.
  "microsoft.resources/deploymentscripts": {
    record: true,
    refetch: {
      lacks: (p) => str(p.scriptContent) === undefined && str(p.primaryScriptUri) === undefined,
      apiVersion: "2023-08-01",
      needs: NEEDS_DEPLOYMENT_SCRIPT,
    },
  },
  // Logic 2019-05-01 Workflows_Get: the actions are in properties.definition.
  "microsoft.logic/workflows": {
    record: true,
    refetch: { lacks: (p) => !isObj(p.definition), apiVersion: "2019-05-01", needs: NEEDS_WORKFLOW },
  },
  // Automation 2023-11-01 Runbook_ListByAutomationAccount (listRunbooksByAutomationAccount.json).
  "microsoft.automation/automationaccounts": {
    record: false,
    children: [{ path: "runbooks", apiVersion: "2023-11-01", needs: NEEDS_RUNBOOKS }],
  },
  "microsoft.virtualmachineimages/imagetemplates": { record: true },
};

/** The api-version of Runbook_GetContent and RunbookDraft_GetContent (Automation 2023-11-01, runbook.json). */
const RUNBOOK_API = "2023-11-01";

const NEEDS_GRAPH = { what: "the resource inventory (Resource Graph)", role: "Reader" };

/** Rows per Resource Graph page (its maximum is 1000). */
const PAGE = 1000;
/** Subscriptions per Resource Graph query (its limit). */
const SUBSCRIPTION_BATCH = 1000;

/** Reads of one kind that failed in one subscription: one reason with the count, not one per resource. */
class FailedReads {
  private readonly byScope = new Map<ScopeTally, Map<string, { first: string; count: number }>>();

  add(scope: ScopeTally, needs: Needs, reason: string): void {
    const kinds = this.byScope.get(scope) ?? new Map<string, { first: string; count: number }>();
    this.byScope.set(scope, kinds);
    const f = kinds.get(needs.what);
    if (f) f.count++;
    else kinds.set(needs.what, { first: reason, count: 1 });
  }

  report(): void {
    for (const [scope, kinds] of this.byScope)
      for (const [what, f] of kinds)
        scope.missed(f.count === 1 ? f.first : `${f.first} (and ${f.count - 1} more reads of ${what} like it)`);
  }
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof s === "number" ? s : undefined;
}

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
    const failed = new FailedReads();
    /** Runs one read; a refusal or exhausted retries is counted against the scope, never thrown. */
    const attempt = async <T>(scope: ScopeTally, needs: Needs, subject: string, read: () => Promise<T>) => {
      try {
        return await read();
      } catch (e) {
        if (abortSignal?.aborted) throw e;
        failed.add(scope, needs, explain(e, subject, needs));
        return undefined;
      }
    };
    /**
     * A runbook's body with its published and draft scripts under RUNBOOK_CONTENT_KEY. A 404 is a
     * script that does not exist (a runbook never published has no content, one not being edited
     * has no draft), not a failed read.
     */
    const withRunbookContent = async (scope: ScopeTally, item: Json): Promise<Json> => {
      const rid = str(item.id);
      if (!rid) return item;
      const content: Json = {};
      for (const [key, suffix, needs] of [
        ["published", "content", NEEDS_RUNBOOK_CONTENT],
        ["draft", "draft/content", NEEDS_RUNBOOK_DRAFT],
      ] as const) {
        const text = await attempt(scope, needs, rid, async () => {
          try {
            return (await arm.getText(`${rid}/${suffix}`, RUNBOOK_API, MAX_PAYLOAD_CHARS, abortSignal)).text;
          } catch (e) {
            if (statusOf(e) === 404) return undefined;
            throw e;
          }
        });
        if (text !== undefined) content[key] = text;
      }
      if (Object.keys(content).length === 0) return item;
      const props = isObj(item.properties) ? item.properties : {};
      return { ...item, properties: { ...props, [RUNBOOK_CONTENT_KEY]: content } };
    };
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
        let body: Json = row;
        let location = at;
        let line: number | undefined = index;
        const refetch = spec.refetch;
        if (refetch?.lacks(isObj(row.properties) ? row.properties : {})) {
          const got = await attempt(scope, refetch.needs, id, async () => {
            try {
              return await arm.get(id, refetch.apiVersion, abortSignal);
            } catch (e) {
              // Deleted since Resource Graph listed it: the row is all there is.
              if (statusOf(e) === 404) return undefined;
              throw e;
            }
          });
          if (got) {
            // The resource asked for is the row's; a GET body without id or type (the spec's own
            // DeploymentScripts_Get.json example has neither right) keeps the row's.
            body = { ...got.body, id, type: str(got.body.type) ?? row.type, name: str(got.body.name) ?? row.name };
            location = stripQuery(got.url);
            line = undefined;
          }
        }
        const r = toArmResource(body, { shape: "arm-resource", location, ...(line ? { index: line } : {}) });
        if (r) {
          scope.record();
          out.push(r);
        } else scope.unreadableRecord({ url: location, ...(line ? { line } : {}) }, "is not an ARM resource");
      }
      for (const child of spec.children ?? []) {
        const [path, query] = child.path.split("?");
        await attempt(scope, child.needs, id, async () => {
          for await (const page of arm.list(
            `${id}/${path}${query ? `?${query}` : ""}`,
            child.apiVersion,
            abortSignal,
          )) {
            for (const [i, item] of page.items.entries()) {
              const body = child.needs === NEEDS_RUNBOOKS ? await withRunbookContent(scope, item) : item;
              const r = toArmResource(body, { shape: "arm-resource", location: stripQuery(page.url), index: i + 1 });
              if (!r) {
                scope.unreadableRecord({ url: stripQuery(page.url), line: i + 1 }, "is not an ARM resource");
                continue;
              }
              scope.record();
              out.push(r);
            }
          }
        });
      }
      if (out.length > 0) yield out;
    }
    failed.report();
  }
}
