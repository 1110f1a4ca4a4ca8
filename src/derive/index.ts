/**
 * The derivation stage, between normalisation and matching: derivers turn records into more
 * records (payloads from configuration, grants from role assignments) and feed the scan-wide
 * context that rules and findings read (the role catalogue, who wrote what, image imports).
 * Each derived record carries its provenance. Derivers that need every input (grants need every
 * role definition) derive at `finish`, so the order the input arrives in does not matter.
 */
import type { AuditRecord } from "../model/records.js";

export interface Deriver {
  readonly name: string;
  /** Records derived from `r` now (often none); may also only observe it. */
  accept(r: AuditRecord): readonly AuditRecord[];
  /** Records that can only be derived once all input has been read. */
  finish?(): readonly AuditRecord[];
}

export class DerivationStage {
  constructor(private readonly derivers: readonly Deriver[]) {}

  /** The record itself, then what every deriver makes of it. */
  *accept(r: AuditRecord): Generator<AuditRecord> {
    yield r;
    for (const d of this.derivers) yield* d.accept(r);
  }

  *finish(): Generator<AuditRecord> {
    for (const d of this.derivers) if (d.finish) yield* d.finish();
  }
}
