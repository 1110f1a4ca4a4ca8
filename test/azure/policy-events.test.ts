/**
 * Policy-category events carry no request body: the policy an effect acted for is named in
 * `properties.policies`, a JSON string holding an array. Microsoft's "Sample Policy event"
 * (test/fixtures/reference/activity-policy-event.json, SOURCES.md) is the shape; the rules that
 * read it are run over the sample and one-change variants of it.
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_RULES_DIR } from "../../src/paths.js";
import { loadRules } from "../../src/rules/loader.js";
import { runCase, testableFor } from "../../src/rules/tester.js";
import { ref } from "../helpers.js";

type Json = Record<string, unknown>;
const sample = ref("activity-policy-event.json") as Json;
const loaded = await loadRules([BUILTIN_RULES_DIR]);
const byTitle = (t: string) => {
  const r = [...loaded.rules, ...loaded.correlations].find((x) => x.title.startsWith(t));
  if (!r) throw new Error(`no rule ${t}`);
  return testableFor(r, loaded);
};
const custom = byTitle("Azure Policy deployed or modified resources through a custom policy");
const chain = byTitle("Policy assigned, then its deployIfNotExists or modify effect ran");
const as = (op: string, extra: Json = {}) => ({
  ...sample,
  operationName: { value: op, localizedValue: op },
  ...extra,
});
const DINE = "Microsoft.Authorization/policies/deployIfNotExists/action";

describe("Policy effect events (Microsoft's sample)", () => {
  it("the sample as published is an audit and raises nothing", () => {
    expect(runCase(custom, [sample]).findings).toHaveLength(0);
  });
  it("the same event as a deployIfNotExists of its subscription-scoped (custom) definition is found", () => {
    const [f] = runCase(custom, [as(DINE)]).findings;
    expect(f?.operation).toBe(DINE);
    expect(runCase(custom, [as("Microsoft.Authorization/policies/modify/action")]).findings).toHaveLength(1);
  });
  it("a built-in definition is not a custom one", () => {
    const props = sample.properties as Json;
    const builtIn = (props.policies as string).replace(
      "/subscriptions/<subscriptionID>/providers/Microsoft.Authorization/policyDefinitions/",
      "/providers/Microsoft.Authorization/policyDefinitions/",
    );
    expect(builtIn).not.toBe(props.policies);
    expect(runCase(custom, [as(DINE, { properties: { ...props, policies: builtIn } })]).findings).toHaveLength(0);
  });
  it("joins the effect to the assignment written before it, whatever the trailing slash", () => {
    const write = {
      operationName: { value: "Microsoft.Authorization/policyAssignments/write" },
      eventTimestamp: "2019-01-14T13:19:56Z",
      status: { value: "Succeeded" },
      correlationId: "write-1",
      // The sample names …/policyAssignments/991a69402a6c484cb0f9b673/ (trailing slash).
      resourceId:
        "/subscriptions/<subscriptionID>/providers/Microsoft.Authorization/policyAssignments/991a69402a6c484cb0f9b673",
    };
    const found = runCase(chain, [write, as(DINE)]).findings;
    expect(found.map((f) => f.evidence.kind)).toEqual(["chain"]);
    expect(runCase(chain, [write, sample]).findings).toHaveLength(0);
  });
});
