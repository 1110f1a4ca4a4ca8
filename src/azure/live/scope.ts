/**
 * Which subscriptions a live scan reads: those named (--subscription, repeatable), every one the
 * identity can see (--all-subscriptions, through the subscriptions API), or those under a
 * management group (--management-group, through its descendants). Resolved once per scan and
 * shared by every live collector; a named subscription the identity cannot see is still read
 * (and fails there, with the reason), so a missing permission is never silently out of scope.
 */
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import { UsageError } from "../../util/errors.js";
import { str } from "../normalize/util.js";
import { ArmReader, BodyCapture, explain } from "./arm.js";
import type { AzureSession } from "./session.js";

export interface Subscription {
  id: string;
  displayName?: string;
  /** Enabled, Disabled, Warned, PastDue, Deleted — as the subscriptions API says. */
  state?: string;
}

export interface ScopeOptions {
  subscriptions?: readonly string[];
  all?: boolean;
  managementGroup?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MG_NAME = /^[A-Za-z0-9_().-]{1,90}$/;

/** Checks the flags before anything is read (exit 3 for a mistake). */
export function checkScope(o: ScopeOptions): void {
  const named = o.subscriptions ?? [];
  const ways = [named.length > 0, !!o.all, !!o.managementGroup].filter(Boolean).length;
  if (ways === 0)
    throw new UsageError(
      "choose what to read: --subscription <id> (repeatable), --all-subscriptions or --management-group <id>",
    );
  if (ways > 1) throw new UsageError("use one of --subscription, --all-subscriptions or --management-group");
  for (const s of named)
    if (!GUID.test(s)) throw new UsageError(`--subscription takes a subscription id (a GUID), got '${s}'`);
  if (o.managementGroup !== undefined && !MG_NAME.test(o.managementGroup))
    throw new UsageError(`--management-group takes a management group id (its name), got '${o.managementGroup}'`);
}

/** The live scope, resolved on first use. */
export class LiveScope {
  private resolved?: Promise<Subscription[]>;

  constructor(
    private readonly session: AzureSession,
    readonly options: ScopeOptions,
  ) {
    checkScope(options);
  }

  /** The management group scope, when the scan was given one (RBAC also reads its assignments). */
  get managementGroupScope(): string | undefined {
    return this.options.managementGroup
      ? `/providers/Microsoft.Management/managementGroups/${this.options.managementGroup}`
      : undefined;
  }

  subscriptions(abortSignal?: AbortSignal): Promise<Subscription[]> {
    this.resolved ??= this.resolve(abortSignal);
    return this.resolved;
  }

  private async resolve(abortSignal?: AbortSignal): Promise<Subscription[]> {
    const named = this.options.subscriptions ?? [];
    if (named.length > 0) {
      const seen = new Set<string>();
      return named
        .map((s) => s.toLowerCase())
        .filter((s) => !seen.has(s) && seen.add(s))
        .map((id) => ({ id }));
    }
    if (this.options.all) return this.visible(abortSignal);
    return this.underGroup(this.options.managementGroup as string, abortSignal);
  }

  /** Every subscription the identity can see (GET /subscriptions). */
  private async visible(abortSignal?: AbortSignal): Promise<Subscription[]> {
    const capture = new BodyCapture();
    const client = new SubscriptionClient(this.session.credential, this.session.armClientOptions(capture.policy));
    const out: Subscription[] = [];
    try {
      for await (const page of capture.pages(client.subscriptions.list({ abortSignal }))) {
        for (const s of page.items) {
          const id = str(s.subscriptionId);
          if (id) out.push({ id: id.toLowerCase(), displayName: str(s.displayName), state: str(s.state) });
        }
      }
    } catch (e) {
      throw new UsageError(
        `cannot list subscriptions: ${explain(e, "the tenant", { what: "subscriptions", role: "Reader on at least one subscription" })}`,
      );
    }
    if (out.length === 0)
      throw new UsageError(
        `${this.session.credentialName} sees no subscription: grant it Reader on the subscriptions to scan, or name them with --subscription`,
      );
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Subscriptions under a management group (GET …/managementGroups/{id}/descendants). */
  private async underGroup(group: string, abortSignal?: AbortSignal): Promise<Subscription[]> {
    const arm = new ArmReader(this.session.credential, this.session.armClientOptions());
    const out: Subscription[] = [];
    try {
      for await (const page of arm.list(
        `/providers/Microsoft.Management/managementGroups/${encodeURIComponent(group)}/descendants`,
        "2020-05-01",
        abortSignal,
      )) {
        for (const d of page.items) {
          if (str(d.type)?.toLowerCase() !== "microsoft.management/managementgroups/subscriptions") continue;
          const id = str(d.name);
          const props = d.properties as { displayName?: unknown } | undefined;
          if (id) out.push({ id: id.toLowerCase(), displayName: str(props?.displayName) });
        }
      }
    } catch (e) {
      throw new UsageError(
        `cannot list management group ${group}: ${explain(e, `management group ${group}`, { what: "descendants", role: "Reader on the management group" })}`,
      );
    }
    if (out.length === 0) throw new UsageError(`management group ${group} has no subscriptions the scanner can see`);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
