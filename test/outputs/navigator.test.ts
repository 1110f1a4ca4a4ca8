import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_SCORE, navigatorFormat } from "../../src/outputs/formats/navigator.js";
import { renderToString } from "../../src/outputs/registry.js";
import { layerErrors } from "../navigator-validator.js";
import { demoResult } from "./demo-result.js";
import { makeHostileResult } from "./hostile.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions navigate the parsed layer freely.
type Json = Record<string, any>;

const EXAMPLE = join(import.meta.dirname, "../fixtures/reference/navigator/example-layer-v4.5.from-spec.json");
const ATTACK = JSON.parse(readFileSync(join(import.meta.dirname, "../../data/attack-techniques.json"), "utf8")) as {
  id: string;
  revoked: boolean;
  deprecated: boolean;
}[];
const CURRENT = new Set(ATTACK.filter((t) => !t.revoked && !t.deprecated).map((t) => t.id));

async function layerOf(result: Parameters<typeof renderToString>[1]): Promise<Json> {
  return JSON.parse(await renderToString(navigatorFormat, result, { toolVersion: "0.1.0", color: false }));
}

describe("the 4.5 layer checker", () => {
  it("accepts the specification's example", () => {
    expect(layerErrors(JSON.parse(readFileSync(EXAMPLE, "utf8")))).toEqual([]);
  });

  it("rejects what the specification does not allow", () => {
    const ok = JSON.parse(readFileSync(EXAMPLE, "utf8")) as Json;
    const broken: Json[] = [
      { ...ok, name: undefined },
      { ...ok, domain: "azure-attack" },
      { ...ok, versions: { ...ok.versions, layer: "4.4" } },
      { ...ok, versions: { ...ok.versions, navigator: "4.8.3" } },
      { ...ok, techniques: [{ techniqueID: "1059" }] },
      { ...ok, techniques: [{ techniqueID: "T1059", score: 101 }] },
      { ...ok, techniques: [{ techniqueID: "T1059", scor: 1 }] },
      { ...ok, gradient: { colors: ["#ffffff"], minValue: 0, maxValue: 100 } },
      { ...ok, gradient: { ...ok.gradient, minValue: 100 } },
      { ...ok, filters: { platforms: ["Azure Kubernetes"] } },
      { ...ok, metadata: [{ name: "x" }] },
      { ...ok, sorting: 7 },
    ];
    for (const layer of broken)
      expect(
        layerErrors(JSON.parse(JSON.stringify(layer))).length,
        JSON.stringify(layer).slice(0, 200),
      ).toBeGreaterThan(0);
  });
});

describe("--format navigator", () => {
  it("writes a valid 4.5 layer of the demo's techniques, scored by findings and severity", async () => {
    const result = await demoResult();
    const layer = await layerOf(result);
    expect(layerErrors(layer)).toEqual([]);
    expect(layer.versions).toEqual({ attack: "18", navigator: "5.1.0", layer: "4.5" });
    expect(layer.domain).toBe("enterprise-attack");
    expect(layer.filters.platforms).toEqual(["IaaS", "Containers", "Identity Provider"]);
    const ids = layer.techniques.map((t: Json) => t.techniqueID).sort();
    expect(ids).toEqual([...new Set(result.findings.flatMap((f) => f.attack.techniques))].sort());
    for (const id of ids) expect(CURRENT.has(id), id).toBe(true);
    for (const t of layer.techniques as Json[]) {
      expect(t.score).toBeGreaterThan(0);
      expect(t.score).toBeLessThanOrEqual(MAX_SCORE);
    }
    const byId = new Map((layer.techniques as Json[]).map((t) => [t.techniqueID, t]));
    // T1204.003: 2 critical + 1 high + 1 medium = 135, capped at 100. T1059: 1 critical + 1 high = 75.
    expect(byId.get("T1204.003")?.score).toBe(100);
    expect(byId.get("T1204.003")?.comment).toBe("4 findings (2 critical, 1 high, 1 medium) in 1 subscription");
    expect(byId.get("T1059")?.score).toBe(75);
    expect(byId.get("T1651")?.metadata.map((m: Json) => m.value)).toContain(
      "Managed Run Command created or updated on a VM",
    );
  });

  it("leaves out techniques the Navigator cannot show, names them, and scores no suppressed finding", async () => {
    const { result } = makeHostileResult();
    const layer = await layerOf(result);
    expect(layerErrors(layer)).toEqual([]);
    expect(layer.techniques.map((t: Json) => t.techniqueID).sort()).toEqual(["T1651"]);
    // f-formula (T1059.009) is suppressed.
    expect(layer.techniques[0].comment).toBe("2 findings (1 critical, 1 high) in 1 subscription");
    const unknown = layer.metadata.find((m: Json) => m.name === "not in ATT&CK v18.1");
    expect(unknown.value).toContain("T9999");
    expect(unknown.value).toContain('<svg onload="window.__xss=4">');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
    expect(JSON.stringify(layer)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]|\\u001b|\\n/);
  });

  it("is a valid layer with no techniques when nothing was found", async () => {
    const { result } = makeHostileResult();
    const layer = await layerOf({ ...result, findings: [] });
    expect(layerErrors(layer)).toEqual([]);
    expect(layer.techniques).toEqual([]);
  });
});
