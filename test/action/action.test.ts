/**
 * The GitHub Action as a runner runs it: `node dist-action/index.js` (the committed bundle
 * action.yml names) with the step's inputs as INPUT_* variables and GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY pointed at files, against the demo tenant and the loopback emulator
 * (native OIDC sign-in with a stand-in for the runner's token service).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type RunningEmulator, startEmulator } from "../../emulator/server.ts";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { tempDir } from "../helpers.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";

const BUNDLE = join(PACKAGE_ROOT, "dist-action/index.js");
const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  dir: string;
}

/** GitHub's file-command format: `name<<delimiter`, the value's lines, the delimiter. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? "");
    if (!m) continue;
    const [, name, delimiter] = m as unknown as [string, string, string];
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string);
    out[name] = value.join("\n");
  }
  return out;
}

let runs = 0;
/** One step: a fresh workspace directory, the inputs as the runner passes them. */
function runAction(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const dir = join(tmp.dir, `run-${++runs}`);
  const output = tmp.write(`run-${runs}/.github-output`, "");
  const summary = tmp.write(`run-${runs}/.github-summary`, "");
  const inputEnv = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v]),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        ...inputEnv,
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code,
        stdout,
        stderr,
        outputs: parseOutputs(readFileSync(output, "utf8")),
        summary: readFileSync(summary, "utf8"),
        dir,
      }),
    );
  });
}

const errorLines = (r: Run) => r.stdout.split("\n").filter((l) => l.startsWith("::error::"));

describe("action.yml", () => {
  it("runs the committed bundle on node24 and declares every input the action reads", () => {
    const action = parseYaml(readFileSync(join(PACKAGE_ROOT, "action.yml"), "utf8")) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, unknown>;
      runs: { using: string; main: string };
    };
    expect(action.runs).toEqual({ using: "node24", main: "dist-action/index.js" });
    const source = readFileSync(join(PACKAGE_ROOT, "src/action/run.ts"), "utf8");
    const read = new Set(
      [...source.matchAll(/inputs\("([a-z-]+)"\)|bool\(inputs, "([a-z-]+)"\)|get\("([a-z-]+)"\)/g)].map(
        (m) => m[1] ?? m[2] ?? m[3],
      ),
    );
    for (const name of [
      "suppressions",
      "baseline",
      "max-concurrency",
      "cloud",
      "arm-endpoint",
      "auth",
      "sarif-artifact-uri",
    ])
      read.add(name);
    for (const name of ["sentinel-endpoint", "sentinel-rule-id", "sentinel-stream"]) read.add(name);
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
    expect(Object.keys(action.outputs).sort()).toEqual(
      ["findings-count", "high-count", "incomplete", "new-count", "report-file", "sarif-file"].sort(),
    );
  });
});

describe("the bundled action on the demo tenant", () => {
  let gate: Run;
  beforeAll(async () => {
    gate = await runAction(
      { demo: "true", "fail-on": "high", formats: "markdown,html,csv,navigator" },
      { GITHUB_WORKFLOW_REF: "octo/infra/.github/workflows/azure-gate.yml@refs/pull/7/merge" },
    );
  }, 120_000);

  it("fails the step on the planted attack with exit 1 and one ::error:: line", () => {
    expect(gate.code, gate.stderr).toBe(1);
    const errors = errorLines(gate);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error::azure-exec-audit: 7 findings at or above high \(2 critical, 5 high\): see /);
  });

  it("sets the outputs from the scan", () => {
    const report = JSON.parse(readFileSync(join(gate.dir, "azure-exec-audit/report.json"), "utf8")) as {
      scan: { complete: boolean };
      findings: { severity: string }[];
    };
    expect(gate.outputs).toEqual({
      "findings-count": String(report.findings.length),
      // No baseline and no state: nothing to be new against.
      "new-count": "0",
      "high-count": String(report.findings.filter((f) => f.severity === "high" || f.severity === "critical").length),
      incomplete: "false",
      "sarif-file": "azure-exec-audit/results.sarif",
      "report-file": "azure-exec-audit/report.json",
    });
    expect(report.findings.length).toBe(12);
    expect(gate.outputs["high-count"]).toBe("7");
  });

  it("writes the job summary: the Markdown report, under 1 MiB, pointing at the reports", () => {
    expect(gate.summary).toMatch(/^## azure-exec-audit: 12 findings \(2 critical, 5 high, 3 medium, 2 low\)/);
    expect(gate.summary).toContain("### By ATT&CK technique");
    expect(Buffer.byteLength(gate.summary)).toBeLessThan(1024 * 1024);
    expect(gate.summary).toContain("`azure-exec-audit/results.sarif`");
  });

  it("writes valid SARIF and every asked report", () => {
    const sarif = JSON.parse(readFileSync(join(gate.dir, "azure-exec-audit/results.sarif"), "utf8"));
    expect(validateSarif(sarif), sarifErrors()).toBe(true);
    expect(sarif.runs[0].results.length).toBe(12);
    // Each result points at the running workflow's file (GITHUB_WORKFLOW_REF).
    expect(
      new Set(
        sarif.runs[0].results.map(
          (r: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) =>
            r.locations[0]?.physicalLocation.artifactLocation.uri,
        ),
      ),
    ).toEqual(new Set([".github/workflows/azure-gate.yml"]));
    for (const f of ["report.md", "report.html", "report.csv", "report.layer.json"])
      expect(statSync(join(gate.dir, "azure-exec-audit", f)).size, f).toBeGreaterThan(0);
  });

  it("passes, without an ::error:: line, when the findings are in the baseline", async () => {
    const baseline = join(gate.dir, "azure-exec-audit/report.json");
    const r = await runAction({ demo: "true", "fail-on": "high", baseline, formats: "" });
    expect(r.code, r.stderr).toBe(0);
    expect(errorLines(r)).toEqual([]);
    expect(r.outputs["findings-count"]).toBe("12");
    expect(r.outputs["new-count"]).toBe("0");
    expect(r.outputs["high-count"]).toBe("0");
    expect(r.summary).toContain("in baseline");
  }, 120_000);

  it("passes with fail-on: none and still reports", async () => {
    const r = await runAction({ demo: "true", "fail-on": "none", "report-file": "out/scan.json", formats: "" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.outputs["report-file"]).toBe("out/scan.json");
    expect(existsSync(join(r.dir, "out/scan.json"))).toBe(true);
    expect(r.outputs["high-count"]).toBe("7");
  }, 120_000);

  it("is a usage error (exit 3) with one ::error:: line when nothing is named to scan", async () => {
    const r = await runAction({});
    expect(r.code).toBe(3);
    expect(errorLines(r)).toEqual([
      "::error::azure-exec-audit: name what to scan: the subscriptions, management-group or all-subscriptions input, or demo: true",
    ]);
  });

  it("refuses client-id without tenant-id", async () => {
    const r = await runAction({ subscriptions: "8b1811f6-5813-475a-8054-5d2939bd681f", "client-id": "x" });
    expect(r.code).toBe(3);
    expect(errorLines(r)[0]).toContain("client-id and tenant-id go together");
  });

  it("refuses an unknown cloud for OIDC sign-in in one sentence", async () => {
    const r = await runAction({ "all-subscriptions": "true", "client-id": "x", "tenant-id": "y", cloud: "mars" });
    expect(r.code).toBe(3);
    expect(errorLines(r)).toEqual(["::error::azure-exec-audit: unknown cloud 'mars' (use public, usgov, china)"]);
  });

  it("keeps an input that starts with - a value, not a flag", async () => {
    const r = await runAction({ demo: "true", "fail-on": "--allow-incomplete" });
    expect(r.code).toBe(3);
    expect(errorLines(r)[0]).toContain("--fail-on");
  });

  it("probes user rules' regexes in the bundled worker thread", async () => {
    const rules = tmp.write(
      "user-rules/slow.yml",
      [
        "title: Catastrophic regex",
        "id: 0b4f5a36-0d55-4e0b-8d4f-0c7f1f0f0a01",
        "status: experimental",
        "logsource:",
        "  product: azure",
        "  service: activitylogs",
        "detection:",
        "  selection:",
        "    operationName|re: '^(a+)+$'",
        "  condition: selection",
        "level: low",
        "",
      ].join("\n"),
    );
    const r = await runAction({ demo: "true", "fail-on": "none", rules: join(rules, ".."), formats: "" });
    // The rule is refused by the probe (so the worker ran), the scan goes on.
    expect(r.stderr).toMatch(/backtracks catastrophically/);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
});

describe("the bundled action against the loopback emulator, native OIDC", () => {
  let emulator: RunningEmulator;
  let tokenService: Server;
  const audiences: string[] = [];
  beforeAll(async () => {
    emulator = await startEmulator();
    // A stand-in for the runner's token service (ACTIONS_ID_TOKEN_REQUEST_URL): a three-part token.
    tokenService = createServer((req, res) => {
      expect(req.headers.authorization).toBe("Bearer runner-request-token");
      audiences.push(new URL(req.url ?? "/", "http://x").searchParams.get("audience") ?? "");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ value: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOngifQ.c2ln" }));
    });
    await new Promise<void>((r) => tokenService.listen(0, "127.0.0.1", r));
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
    await new Promise((r) => tokenService?.close(r));
  });

  it("signs in with the runner's OIDC token, scans both subscriptions and gates", async () => {
    const port = (tokenService.address() as AddressInfo).port;
    const r = await runAction(
      {
        subscriptions: "8b1811f6-5813-475a-8054-5d2939bd681f\n091c6054-988d-4631-9070-418c6f76a5fa",
        "client-id": emulator.info.clientId,
        "tenant-id": emulator.info.tenantId,
        "arm-endpoint": emulator.info.armEndpoint,
        "read-app-settings": "true",
        lookback: "30d",
        "fail-on": "critical",
        formats: "",
      },
      {
        NODE_EXTRA_CA_CERTS: emulator.info.caFile,
        AZURE_AUTHORITY_HOST: emulator.info.authorityHost,
        ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runner-request-token",
      },
    );
    expect(audiences.length).toBeGreaterThan(0);
    expect(new Set(audiences)).toEqual(new Set(["api://AzureADTokenExchange"]));
    expect(r.code, r.stderr).toBe(1);
    expect(r.outputs.incomplete, r.stderr).toBe("false");
    expect(Number(r.outputs["findings-count"])).toBeGreaterThanOrEqual(12);
    expect(errorLines(r)).toHaveLength(1);
    expect(errorLines(r)[0]).toMatch(/at or above critical/);
    const sarif = JSON.parse(readFileSync(join(r.dir, "azure-exec-audit/results.sarif"), "utf8"));
    expect(validateSarif(sarif), sarifErrors()).toBe(true);
    writeFileSync(join(tmp.dir, "emulator-summary.md"), r.summary);
    expect(r.summary).toMatch(/^## azure-exec-audit: \d+ findings/);
  }, 300_000);
});

describe("the bundled action when a subscription cannot be read (emulator, forbidden)", () => {
  const DEV = "091c6054-988d-4631-9070-418c6f76a5fa";
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ faults: [`forbidden=${DEV}`] });
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
  });
  /** Signed in as a service principal from the environment, as a credential pinned with auth. */
  const scan = (extra: Record<string, string>) =>
    runAction(
      {
        subscriptions: `8b1811f6-5813-475a-8054-5d2939bd681f, ${DEV}`,
        "arm-endpoint": emulator.info.armEndpoint,
        auth: "env",
        lookback: "30d",
        "fail-on": "none",
        formats: "",
        ...extra,
      },
      {
        NODE_EXTRA_CA_CERTS: emulator.info.caFile,
        AZURE_AUTHORITY_HOST: emulator.info.authorityHost,
        AZURE_TENANT_ID: emulator.info.tenantId,
        AZURE_CLIENT_ID: emulator.info.clientId,
        AZURE_CLIENT_SECRET: emulator.info.clientSecret,
      },
    );

  it("fails closed: exit 2, incomplete, one ::error:: line, the summary names what was not read", async () => {
    const r = await scan({});
    expect(r.code, r.stderr).toBe(2);
    expect(r.outputs.incomplete).toBe("true");
    expect(errorLines(r)).toEqual([
      "::error::azure-exec-audit: scan incomplete; fix the inputs above or pass --allow-incomplete to accept partial results",
    ]);
    expect(r.stderr).toContain(DEV);
    expect(r.summary).toContain(DEV);
    expect(r.summary).not.toContain("**scan complete**");
  }, 300_000);

  it("exits by findings with allow-incomplete, still saying incomplete", async () => {
    const r = await scan({ "allow-incomplete": "true" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.outputs.incomplete).toBe("true");
    expect(errorLines(r)).toEqual([]);
    expect(Number(r.outputs["findings-count"])).toBeGreaterThan(0);
  }, 300_000);
});

describe("dist-action/", () => {
  it("is what scripts/build-action.mjs builds from the sources now (deterministic, no absolute paths)", async () => {
    const out = join(tmp.dir, "fresh-build");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(PACKAGE_ROOT, "scripts/build-action.mjs"), out], {
        stdio: "inherit",
      });
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`build exited ${code}`))));
    });
    for (const file of ["index.js", "redos-worker.js"]) {
      const fresh = readFileSync(join(out, file), "utf8");
      expect(fresh.includes(PACKAGE_ROOT), `${file} holds an absolute path`).toBe(false);
      // Not toBe on 8 MB strings: a failure would print both.
      expect(
        fresh === readFileSync(join(PACKAGE_ROOT, "dist-action", file), "utf8"),
        `${file} is stale: npm run build:action`,
      ).toBe(true);
    }
  }, 120_000);
});

describe("docs/github-action.md", () => {
  const doc = readFileSync(join(PACKAGE_ROOT, "docs/github-action.md"), "utf8");
  const action = parseYaml(readFileSync(join(PACKAGE_ROOT, "action.yml"), "utf8")) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };
  interface Step {
    uses?: string;
    with?: Record<string, unknown>;
  }
  /** Every step of every YAML block, wherever it sits (a whole workflow or a fragment). */
  const steps: Step[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === "object") {
      if (typeof (v as Step).uses === "string") steps.push(v as Step);
      for (const x of Object.values(v)) walk(x);
    }
  };
  for (const m of doc.matchAll(/```yaml\n([\s\S]*?)```/g)) walk(parseYaml(m[1] as string));
  const ours = steps.filter((s) => s.uses?.startsWith("azure-exec-audit/azure-exec-audit@"));

  it("passes the action only inputs action.yml declares, and reads only its outputs", () => {
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const s of ours) for (const k of Object.keys(s.with ?? {})) expect(Object.keys(action.inputs)).toContain(k);
    for (const m of doc.matchAll(/steps\.scan\.outputs\.([a-z-]+)/g))
      expect(Object.keys(action.outputs)).toContain(m[1]);
    // upload-sarif's inputs as its action.yml names them.
    for (const s of steps.filter((x) => x.uses?.startsWith("github/codeql-action/upload-sarif@")))
      for (const k of Object.keys(s.with ?? {})) expect(["sarif_file", "category"]).toContain(k);
  });

  it("documents every input of action.yml", () => {
    for (const name of Object.keys(action.inputs)) expect(doc, name).toContain(`\`${name}\``);
  });

  it("has a demo step that, run as written, fails on the planted attack with a readable summary", async () => {
    const demo = ours.find((s) => s.with?.demo === true);
    expect(demo).toBeDefined();
    const inputs = Object.fromEntries(Object.entries(demo?.with ?? {}).map(([k, v]) => [k, String(v)]));
    const r = await runAction(inputs);
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r)).toHaveLength(1);
    expect(r.summary).toContain("### Findings (new first)");
    expect(existsSync(join(r.dir, "azure-exec-audit/report.layer.json"))).toBe(true);
    const sarif = JSON.parse(readFileSync(join(r.dir, "azure-exec-audit/results.sarif"), "utf8"));
    expect(validateSarif(sarif), sarifErrors()).toBe(true);
  }, 120_000);
});
