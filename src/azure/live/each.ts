/**
 * The loop every live collector runs: one coverage scope per subscription, its reads in order,
 * and any read that fails after retries recorded on that scope in one sentence (explain) — the
 * scan goes on with the next read and the next subscription, and is incomplete.
 */

import type { ScopeTally } from "../../collectors/tally.js";
import type { CollectionPlan, CollectOptions } from "../../collectors/types.js";
import type { SourceKind } from "../../model/finding.js";
import type { CollectedItem } from "../../model/records.js";
import { explain, type Needs } from "./arm.js";

export interface SubscriptionRead {
  id: string;
  scope: ScopeTally;
  /** Runs one read; on failure records why on the scope and returns undefined. */
  attempt<T>(needs: Needs, read: () => Promise<T>): Promise<T | undefined>;
  /** The same for a read that yields batches. */
  attemptEach(needs: Needs, read: () => AsyncIterable<CollectedItem[]>): AsyncGenerator<CollectedItem[]>;
}

export async function* eachSubscription(
  source: SourceKind,
  plan: CollectionPlan,
  options: CollectOptions,
  read: (s: SubscriptionRead) => AsyncIterable<CollectedItem[]>,
): AsyncGenerator<readonly CollectedItem[]> {
  for (const id of plan.scopes) {
    const scope = options.tally.open(source, `subscription ${id}`);
    const where = `subscription ${id}`;
    const fail = (e: unknown, needs: Needs) => {
      if (options.abortSignal?.aborted) throw e;
      scope.missed(explain(e, where, needs));
    };
    const s: SubscriptionRead = {
      id,
      scope,
      async attempt(needs, run) {
        try {
          return await run();
        } catch (e) {
          fail(e, needs);
          return undefined;
        }
      },
      async *attemptEach(needs, run) {
        try {
          for await (const batch of run()) yield batch;
        } catch (e) {
          fail(e, needs);
        }
      },
    };
    for await (const batch of read(s)) if (batch.length > 0) yield batch;
  }
}
