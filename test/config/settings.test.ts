/** Config layers as pure functions: precedence, what-to-scan as a group, paths, environment validation. */
import { describe, expect, it } from "vitest";
import {
  configSchema,
  mergeSettings,
  parseConfigText,
  STARTER_CONFIG,
  settingsFromConfig,
  settingsFromEnv,
} from "../../src/config/index.js";
import { UsageError } from "../../src/util/errors.js";

const FORMATS = ["table", "json", "sarif"];

describe("mergeSettings: command line > environment > file", () => {
  it("each key comes from the highest layer that sets it", () => {
    const merged = mergeSettings(
      { failOn: "critical" },
      { failOn: "high", format: "json", since: "24h" },
      { failOn: "low", format: "sarif", since: "7d", rules: ["/r"], output: "/out.sarif" },
    );
    expect(merged).toEqual({ failOn: "critical", format: "json", since: "24h", rules: ["/r"], output: "/out.sarif" });
  });
  it("what to scan moves as one group: a command-line target replaces the file's scopes and sources", () => {
    const file = { allSubscriptions: true, workspace: "w", input: ["/in"] };
    expect(mergeSettings({ demo: true }, {}, file)).toEqual({ demo: true });
    expect(mergeSettings({ subscription: ["s"] }, {}, file)).toEqual({ subscription: ["s"] });
    expect(mergeSettings({ failOn: "high" }, {}, file)).toEqual({ failOn: "high", ...file });
  });
});

describe("settingsFromConfig", () => {
  it("maps keys to the flags they stand for; relative paths are taken from the config's directory", () => {
    const config = configSchema(FORMATS).parse({
      scopes: { subscriptions: ["8b1811f6-5813-475a-8054-5d2939bd681f"] },
      sources: { inputs: ["exports", "/abs/x.json"], workspace: "00000000-0000-0000-0000-000000000001" },
      lookback: { since: "30d", until: "2026-11-20" },
      rules: ["./my-rules"],
      suppressions: "suppressions.yaml",
      baseline: "baseline.json",
      output: { format: "sarif", file: "out/results.sarif", sarifArtifactUri: ".github/x.yml" },
      failOn: "high",
      state: ".azure-exec-audit/state.db",
      maxConcurrency: 4,
      readAppSettings: true,
    });
    expect(settingsFromConfig(config, "/etc/aea")).toEqual({
      subscription: ["8b1811f6-5813-475a-8054-5d2939bd681f"],
      input: ["/etc/aea/exports", "/abs/x.json"],
      workspace: "00000000-0000-0000-0000-000000000001",
      since: "30d",
      until: "2026-11-20",
      rules: ["/etc/aea/my-rules"],
      suppressions: "/etc/aea/suppressions.yaml",
      baseline: "/etc/aea/baseline.json",
      format: "sarif",
      output: "/etc/aea/out/results.sarif",
      sarifArtifactUri: ".github/x.yml",
      failOn: "high",
      state: "/etc/aea/.azure-exec-audit/state.db",
      maxConcurrency: "4",
      readAppSettings: true,
    });
    expect(settingsFromConfig(configSchema(FORMATS).parse({ state: false }), "/d")).toEqual({ state: false });
  });
});

describe("settingsFromEnv", () => {
  it("reads the documented variables; empty ones are unset", () => {
    expect(
      settingsFromEnv(
        {
          AZURE_EXEC_AUDIT_FAIL_ON: "medium",
          AZURE_EXEC_AUDIT_FORMAT: "sarif",
          AZURE_EXEC_AUDIT_OUTPUT: "r.sarif",
          AZURE_EXEC_AUDIT_SINCE: "24h",
          AZURE_EXEC_AUDIT_SUPPRESSIONS: "s.yaml",
          AZURE_EXEC_AUDIT_BASELINE: "",
          AZURE_EXEC_AUDIT_UNKNOWN: "x",
        },
        FORMATS,
      ),
    ).toEqual({ failOn: "medium", format: "sarif", output: "r.sarif", since: "24h", suppressions: "s.yaml" });
  });
  it("reads the Sentinel target, and the config file's sentinel section maps to the same keys", () => {
    const target = { sentinelEndpoint: "https://dcr.example", sentinelRuleId: "dcr-1", sentinelStream: "Custom-X_CL" };
    expect(
      settingsFromEnv(
        {
          AZURE_EXEC_AUDIT_SENTINEL_ENDPOINT: "https://dcr.example",
          AZURE_EXEC_AUDIT_SENTINEL_RULE_ID: "dcr-1",
          AZURE_EXEC_AUDIT_SENTINEL_STREAM: "Custom-X_CL",
        },
        FORMATS,
      ),
    ).toEqual(target);
    const config = configSchema(FORMATS).parse({
      sentinel: { endpoint: "https://dcr.example", ruleId: "dcr-1", stream: "Custom-X_CL" },
    });
    expect(settingsFromConfig(config, "/d")).toEqual(target);
    expect(() => configSchema(FORMATS).parse({ sentinel: { endpont: "x" } })).toThrow();
  });
  it("a bad value is one sentence naming the variable and what is allowed", () => {
    const error = (env: NodeJS.ProcessEnv) => {
      try {
        settingsFromEnv(env, FORMATS);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      return "no error";
    };
    expect(error({ AZURE_EXEC_AUDIT_FAIL_ON: "severe" })).toBe(
      "AZURE_EXEC_AUDIT_FAIL_ON must be one of informational, low, medium, high, critical (got 'severe')",
    );
    expect(error({ AZURE_EXEC_AUDIT_FORMAT: "xml" })).toBe(
      "AZURE_EXEC_AUDIT_FORMAT must be one of table, json, sarif (got 'xml')",
    );
    expect(error({ AZURE_EXEC_AUDIT_SINCE: "a while" })).toBe(
      "AZURE_EXEC_AUDIT_SINCE must be a duration back from now (7d, 24h, 90m) or an ISO date (2026-11-20T00:00:00Z) (got 'a while')",
    );
  });
});

describe("the starter config", () => {
  it("validates as written", () => {
    const config = parseConfigText(STARTER_CONFIG, "azure-exec-audit.yaml", FORMATS);
    expect(config).toMatchObject({ scopes: { allSubscriptions: true }, lookback: { since: "7d" }, failOn: "high" });
  });
  it("each commented example validates too once uncommented", () => {
    // Uncomment the example lines (`# key: value` and `#   - item` indented under a key) one block at a time.
    const lines = STARTER_CONFIG.split("\n");
    const uncommented = lines
      .map((l) => (/^\s*#\s{0,3}(\s*)([a-zA-Z]+:|-\s)/.test(l) && !/^#\s[A-Z]/.test(l) ? l.replace(/#\s?/, "") : l))
      // The examples offer alternatives (one scope; a workspace or an archive): keep one of each.
      .filter((l) => !/^\s*(allSubscriptions|managementGroup|archive):/.test(l))
      .join("\n")
      // The suppressions example follows `suppressions: []`: as a list it replaces it.
      .replace("suppressions: []\n", "suppressions:\n");
    const config = parseConfigText(uncommented, "uncommented.yaml", FORMATS) as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(
      [
        "baseline",
        "disable",
        "failOn",
        "lookback",
        "maxConcurrency",
        "output",
        "readAppSettings",
        "rules",
        "scopes",
        "severity",
        "sentinel",
        "sources",
        "state",
        "suppressions",
      ].sort(),
    );
  });
});
