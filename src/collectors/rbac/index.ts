/**
 * RBAC, read live through @azure/arm-authorization: role definitions visible at each
 * subscription (built-in and custom) and role assignments at and under it — and, for a scan of a
 * management group, the assignments made at the group itself, which the subscriptions inherit.
 * Raw REST bodies are mapped by the same normalisers as exported files; which principal can run
 * code where (the grants) is then derived from them by the enrichment stage (src/azure/enrich),
 * honouring wildcards, notActions and the execution catalogue.
 */
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { BodyCapture, stripQuery } from "../../azure/live/arm.js";
import { eachSubscription } from "../../azure/live/each.js";
import type { LiveScope } from "../../azure/live/scope.js";
import type { AzureSession } from "../../azure/live/session.js";
import { toRoleAssignment, toRoleDefinition } from "../../azure/normalize/rbac.js";
import type { CollectedItem } from "../../model/records.js";
import type { CollectionPlan, CollectOptions, Collector, PlanOptions } from "../types.js";

const NEEDS_ASSIGNMENTS = { what: "role assignments", role: "Reader (Microsoft.Authorization/roleAssignments/read)" };
const NEEDS_DEFINITIONS = { what: "role definitions", role: "Reader (Microsoft.Authorization/roleDefinitions/read)" };

export class RbacCollector implements Collector {
  readonly source = "rbac" as const;

  constructor(
    private readonly session: AzureSession,
    private readonly scope: LiveScope,
  ) {}

  async plan(options: PlanOptions = {}): Promise<CollectionPlan> {
    const subs = await this.scope.subscriptions(options.abortSignal);
    return { source: this.source, scopes: subs.map((s) => s.id) };
  }

  collect(plan: CollectionPlan, options: CollectOptions): AsyncIterable<readonly CollectedItem[]> {
    const session = this.session;
    const group = this.scope.managementGroupScope;
    /** Built-in definitions repeat under every subscription: one record each (by definition GUID). */
    const definitions = new Set<string>();
    let groupRead = false;
    return eachSubscription(this.source, plan, options, async function* (s) {
      const capture = new BodyCapture();
      const client = new AuthorizationManagementClient(
        session.credential,
        s.id,
        session.armClientOptions(capture.policy),
      );
      const signal = { abortSignal: options.abortSignal };
      yield* s.attemptEach(NEEDS_DEFINITIONS, async function* () {
        // The SDK's path is `/{scope}/providers/…` with the scope unencoded: no leading slash.
        for await (const page of capture.pages(client.roleDefinitions.list(`subscriptions/${s.id}`, signal))) {
          const out: CollectedItem[] = [];
          for (const [i, item] of page.items.entries()) {
            const d = toRoleDefinition(item, {
              shape: "role-definition",
              location: stripQuery(page.url),
              index: i + 1,
            });
            if (!d) {
              s.scope.unreadableRecord({ url: stripQuery(page.url), line: i + 1 }, "is not a role definition");
              continue;
            }
            if (definitions.has(d.guid)) continue;
            definitions.add(d.guid);
            s.scope.record();
            out.push(d);
          }
          yield out;
        }
      });
      const lists = [() => client.roleAssignments.listForSubscription(signal)];
      if (group && !groupRead) {
        // Assignments made at the management group itself: inherited by every subscription under it.
        groupRead = true;
        // The SDK's path is `/{scope}/providers/…` with the scope unencoded: no leading slash.
        lists.push(() =>
          client.roleAssignments.listForScope(group.replace(/^\/+/, ""), { ...signal, filter: "atScope()" }),
        );
      }
      for (const list of lists) {
        yield* s.attemptEach(NEEDS_ASSIGNMENTS, async function* () {
          for await (const page of capture.pages(list())) {
            const out: CollectedItem[] = [];
            for (const [i, item] of page.items.entries()) {
              const a = toRoleAssignment(item, {
                shape: "role-assignment",
                location: stripQuery(page.url),
                index: i + 1,
              });
              if (!a) {
                s.scope.unreadableRecord({ url: stripQuery(page.url), line: i + 1 }, "is not a role assignment");
                continue;
              }
              s.scope.record();
              out.push(a);
            }
            yield out;
          }
        });
      }
    });
  }
}
