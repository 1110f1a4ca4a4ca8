/**
 * One scan's record path, whatever the records came from: derivation (payloads, grants,
 * context) then the engine. The orchestrator feeds it from collectors; `rules test` feeds it
 * from a rule's embedded cases; both get identical semantics.
 */
import { type AzureContext, azureDerivers, createContext } from "../azure/enrich/index.js";
import { DerivationStage } from "../derive/index.js";
import { type BaselineHistory, Engine } from "../engine/engine.js";
import { DEFAULT_LIMITS, type EngineLimits, type EngineState, MemoryState } from "../engine/state.js";
import type { Diagnostics } from "../model/diagnostics.js";
import type { Finding } from "../model/finding.js";
import type { AuditRecord, CollectedItem, LineRef } from "../model/records.js";
import type { EngineRule, ResolvedCorrelation } from "../rules/loader.js";

export interface PipelineOptions {
  rules: readonly EngineRule[];
  correlations: readonly ResolvedCorrelation[];
  scanTime: string;
  windowFrom?: string;
  history?: BaselineHistory;
  state?: EngineState;
  limits?: Partial<EngineLimits>;
  diagnostics?: Diagnostics;
}

export class RecordPipeline {
  private readonly derivation: DerivationStage;
  private readonly context: AzureContext;
  readonly engine: Engine;

  constructor(opts: PipelineOptions) {
    const state = opts.state ?? new MemoryState();
    const context = createContext(state, { ...DEFAULT_LIMITS, ...opts.limits }.writers);
    this.context = context;
    this.derivation = new DerivationStage(azureDerivers(context));
    this.engine = new Engine(opts.rules, opts.correlations, {
      scanTime: opts.scanTime,
      windowFrom: opts.windowFrom,
      ...(opts.history ? { history: opts.history } : {}),
      context,
      state,
      limits: opts.limits,
      diagnostics: opts.diagnostics,
    });
  }

  push(r: CollectedItem): void {
    if (r.kind === "observation") {
      this.context.attribution.observeLean(r);
      this.engine.observe(r);
      return;
    }
    if (r.kind === "observations") {
      this.context.attribution.absorb(r.writes);
      this.engine.absorb(r);
      return;
    }
    for (const d of this.derivation.accept(r)) this.engine.process(d);
  }

  /**
   * Reads back, in full, the events the pre-filter cleared that a finding will name as the
   * author of a configuration record (few: one per configured resource at most).
   */
  async resolve(read: (refs: LineRef[]) => Promise<AuditRecord[]>): Promise<void> {
    const refs = this.context.attribution.pendingLines(this.context.configIds);
    if (refs.length === 0) return;
    for (const e of await read(refs)) if (e.kind === "activity") this.context.attribution.resolve(e);
  }

  finish(): Finding[] {
    for (const d of this.derivation.finish()) this.engine.process(d);
    return this.engine.finish();
  }
}
