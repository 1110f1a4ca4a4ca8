/** The exporter contract: batches within the receiver's limit, nothing dropped, abortable between batches. */
import { describe, expect, it } from "vitest";
import { exportFindings } from "../../src/exporters/run.js";
import type { BatchOutcome, Exporter } from "../../src/exporters/types.js";
import type { Finding } from "../../src/model/finding.js";

const finding = (i: number): Finding => ({
  id: `f${i}`,
  ruleId: "r",
  title: "t",
  severity: "high",
  attack: { tactics: ["execution"], techniques: ["T1651"] },
  resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm${i}`,
  principal: { id: "p" },
  time: "2026-11-19T00:00:00Z",
  evidence: { kind: "activity", records: [], operationName: "x", occurrences: 1, outcome: "succeeded" },
});

/** A receiver that refuses every third finding and records the batches it saw. */
function fakeReceiver(maxBatch: number, onBatch?: () => void) {
  const batches: string[][] = [];
  const exporter: Exporter = {
    name: "fake",
    maxBatch,
    async send(batch): Promise<BatchOutcome> {
      batches.push(batch.map((f) => f.id));
      onBatch?.();
      return {
        accepted: batch.filter((f) => Number(f.id.slice(1)) % 3 !== 0),
        rejected: batch.filter((f) => Number(f.id.slice(1)) % 3 === 0).map((f) => ({ finding: f, reason: "429" })),
      };
    },
  };
  return { exporter, batches };
}

const scan = { id: "scan-1", finishedAt: "2026-11-19T00:00:00Z", toolVersion: "0.1.0" };
const findings = Array.from({ length: 10 }, (_, i) => finding(i + 1));

describe("exportFindings", () => {
  it("sends batches of at most maxBatch, in order, and returns what was refused", async () => {
    const { exporter, batches } = fakeReceiver(4);
    const report = await exportFindings(exporter, findings, scan);
    expect(batches).toEqual([
      ["f1", "f2", "f3", "f4"],
      ["f5", "f6", "f7", "f8"],
      ["f9", "f10"],
    ]);
    expect(report.accepted).toBe(7);
    expect(report.rejected.map((r) => r.finding.id)).toEqual(["f3", "f6", "f9"]);
    expect(report.unsent).toEqual([]);
  });
  it("stops between batches when aborted and hands back what it did not send", async () => {
    const ac = new AbortController();
    const { exporter, batches } = fakeReceiver(4, () => ac.abort());
    const report = await exportFindings(exporter, findings, scan, { abortSignal: ac.signal });
    expect(batches).toHaveLength(1);
    expect(report.unsent.map((f) => f.id)).toEqual(["f5", "f6", "f7", "f8", "f9", "f10"]);
  });
});
