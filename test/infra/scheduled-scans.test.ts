/**
 * The scheduled-scan recipes (docs/scheduled-scans.md) stay runnable: the GitHub workflow keeps
 * its state, signs in with OIDC and runs one scan at a time; the Container Apps Job template uses
 * Microsoft.App/jobs property names from the REST spec; and both pass the scanner only flags it
 * accepts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseArgs as parseWrapperArgs } from "../../infra/container-apps-job/state-blob.ts";
import { PACKAGE_ROOT } from "../../src/paths.js";

const read = (p: string) => readFileSync(join(PACKAGE_ROOT, p), "utf8");

const help = execFileSync(process.execPath, [join(PACKAGE_ROOT, "bin/azure-exec-audit.js"), "scan", "--help"], {
  encoding: "utf8",
});
/** The flags `scan --help` lists, with the choices of those that have them. */
const flags = new Map<string, string[] | null>();
for (const m of help.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)(?: <[^>]+>)?([\s\S]*?)(?=^ {2}-|^\S|$(?![\s\S]))/gm)) {
  const choices = /\(choices: ([^)]*)\)/.exec((m[2] as string).replace(/\s+/g, " "));
  flags.set(
    m[1] as string,
    choices ? [...(choices[1] as string).matchAll(/"([^"]+)"/g)].map((c) => c[1] as string) : null,
  );
}

/** Every flag of a scan command line is one `scan` accepts, with an allowed value where it has choices. */
function expectAcceptedFlags(args: string[]): void {
  expect(args.length).toBeGreaterThan(0);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith("--")) continue;
    expect(flags.has(a), `${a} is not a scan flag`).toBe(true);
    const choices = flags.get(a);
    if (choices) expect(choices, `${a} ${args[i + 1]}`).toContain(args[i + 1]);
  }
}

describe("scan --help parsing", () => {
  it("finds the flags and their choices", () => {
    expect(flags.get("--state")).toBeNull();
    expect(flags.get("--format")).toEqual(["table", "json", "sarif", "markdown", "csv", "html", "navigator"]);
    expect(flags.get("--auth")).toContain("managed-identity");
    expect(flags.size).toBeGreaterThan(25);
    expect(() => expectAcceptedFlags(["scan", "--no-such-flag"])).toThrow("not a scan flag");
    expect(() => expectAcceptedFlags(["scan", "--format", "xml"])).toThrow();
  });
});

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
const workflow = parse(read("infra/github/azure-exec-audit.yml")) as {
  on: { schedule: Array<{ cron: string }> };
  permissions: Record<string, string>;
  concurrency: { group: string; "cancel-in-progress": boolean };
  env: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
const step = (action: string): Step => {
  const found = steps.filter((s) => s.uses?.split("@")[0] === action);
  expect(found, action).toHaveLength(1);
  return found[0] as Step;
};
/** `${{ env.X }}` replaced by the workflow's env; other expressions kept. */
const expand = (v: unknown) => String(v).replace(/\$\{\{ env\.(\w+) \}\}/g, (_, k: string) => workflow.env[k] ?? "");

/**
 * The inputs each action documents (docs/scheduled-scans.md cites where): actions/cache and its
 * restore/save halves (docs.github.com "Dependency caching reference", input parameters; the
 * restore/save READMEs), azure/login (its README's parameter table), codeql-action upload-sarif
 * (upload-sarif/action.yml).
 */
const INPUTS: Record<string, string[]> = {
  "actions/cache/restore": ["path", "key", "restore-keys", "enableCrossOsArchive", "fail-on-cache-miss", "lookup-only"],
  "actions/cache/save": ["path", "key", "upload-chunk-size", "enableCrossOsArchive"],
  "azure/login": ["client-id", "tenant-id", "subscription-id", "allow-no-subscriptions", "enable-AzPSSession"],
  "github/codeql-action/upload-sarif": [
    "sarif_file",
    "checkout_path",
    "token",
    "matrix",
    "category",
    "wait-for-processing",
  ],
  "actions/setup-node": ["node-version"],
};

describe("GitHub Actions recipe (infra/github/azure-exec-audit.yml)", () => {
  it("runs on a schedule, one run at a time, and may ask for an OIDC token", () => {
    expect(workflow.on.schedule[0]?.cron).toMatch(/^(\S+ ){4}\S+$/);
    expect(workflow.permissions["id-token"]).toBe("write");
    expect(workflow.permissions["security-events"]).toBe("write");
    expect(workflow.concurrency.group).toBeTruthy();
    expect(workflow.concurrency["cancel-in-progress"]).toBe(false);
  });

  it("passes each action only inputs it documents", () => {
    for (const s of steps.filter((x) => x.uses)) {
      const action = (s.uses as string).split("@")[0] as string;
      expect(INPUTS[action], `${action} is not one the recipe documents`).toBeDefined();
      for (const k of Object.keys(s.with ?? {})) expect(INPUTS[action], `${action} ${k}`).toContain(k);
    }
  });

  it("restores the newest state under a per-run key and saves it under that new key, whatever the scan's exit", () => {
    const restore = step("actions/cache/restore");
    const save = step("actions/cache/save");
    const key = expand(restore.with?.key);
    expect(key).toContain(["${{", "github.run_id", "}}"].join(" "));
    const prefix = expand(restore.with?.["restore-keys"]);
    expect(prefix.length).toBeGreaterThan(0);
    expect(key.startsWith(prefix)).toBe(true);
    expect(expand(save.with?.key)).toBe(key);
    expect(save.with?.path).toBe(restore.with?.path);
    expect(save.if).toContain("always()");
    expect(steps.indexOf(restore)).toBeLessThan(steps.indexOf(save));
  });

  it("signs in with OIDC (client and tenant, no secret) before the scan", () => {
    const login = step("azure/login");
    expect(login.with?.["client-id"]).toBeTruthy();
    expect(login.with?.["tenant-id"]).toBeTruthy();
    expect(Object.keys(login.with ?? {})).not.toContain("creds");
    const scan = steps.findIndex((s) => s.run?.includes(" scan "));
    expect(steps.indexOf(login)).toBeLessThan(scan);
  });

  it("scans with flags the CLI accepts, into the state the cache keeps, and uploads its SARIF", () => {
    const runs = steps.filter((s) => s.run?.includes("azure-exec-audit"));
    expect(runs).toHaveLength(1);
    const args = String(runs[0]?.run).trim().split(/\s+/);
    const at = args.indexOf("scan");
    expect(args.slice(0, at).join(" ")).toMatch(/^npx (--yes )?azure-exec-audit(@\S+)?$/);
    const scan = args.slice(at + 1);
    expectAcceptedFlags(scan);
    const value = (f: string) => scan[scan.indexOf(f) + 1];
    expect(scan).toContain("--all-subscriptions");
    expect(value("--format")).toBe("sarif");
    expect(value("--fail-on")).toBe("high");
    const state = value("--state") as string;
    const cached = step("actions/cache/restore").with?.path as string;
    expect(state.startsWith(`${cached.replace(/\/$/, "")}/`)).toBe(true);
    const upload = step("github/codeql-action/upload-sarif");
    expect(upload.with?.sarif_file).toBe(value("--output"));
    expect(upload.if).toContain("always()");
  });
});

type Json = Record<string, unknown>;
const template = JSON.parse(read("infra/container-apps-job/container-apps-job.json")) as {
  $schema: string;
  parameters: Record<string, { defaultValue?: unknown }>;
  variables: Record<string, unknown>;
  resources: Array<Json & { type: string; apiVersion: string }>;
};
const example = JSON.parse(read("test/fixtures/reference/Job_CreateorUpdate.json")) as {
  parameters: { "api-version": string; JobEnvelope: Json };
  responses: Record<string, { body: Json }>;
};

/** Key paths of a JSON value, arrays as `[]`: `template.containers[].image`. */
function keyPaths(v: unknown, prefix = ""): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => keyPaths(x, `${prefix}[]`));
  if (v && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...keyPaths(x, p)];
    });
  return [];
}

/**
 * The keys the template uses that the example (a Manual job) does not show, from the same API
 * version's definitions (test/fixtures/reference/SOURCES.md): Jobs.json JobConfiguration's
 * scheduleTriggerConfig, and CommonDefinitions.json BaseContainer's command/args/env (the example
 * shows command and args on an init container, the same BaseContainer) with EnvironmentVar.
 */
const FROM_SPEC = [
  "configuration.scheduleTriggerConfig",
  "configuration.scheduleTriggerConfig.cronExpression",
  "configuration.scheduleTriggerConfig.parallelism",
  "configuration.scheduleTriggerConfig.replicaCompletionCount",
  "template.containers[].command",
  "template.containers[].args",
  "template.containers[].env",
  "template.containers[].env[].name",
  "template.containers[].env[].value",
];

describe("Container Apps Job recipe (infra/container-apps-job/container-apps-job.json)", () => {
  const job = template.resources.find((r) => r.type === "Microsoft.App/jobs") as unknown as Json & {
    apiVersion: string;
    identity: { type: string; userAssignedIdentities: Json };
    properties: { configuration: Json; template: { containers: Array<Json> } };
  };

  it("is a deployment template declaring one scheduled job with one replica", () => {
    expect(template.$schema).toMatch(
      /^https:\/\/schema\.management\.azure\.com\/schemas\/[\d-]+\/deploymentTemplate\.json#$/,
    );
    expect(job).toBeDefined();
    expect(job.apiVersion).toBe(example.parameters["api-version"]);
    const c = job.properties.configuration;
    expect(c.triggerType).toBe("Schedule");
    expect(c.scheduleTriggerConfig).toMatchObject({ parallelism: 1, replicaCompletionCount: 1 });
    expect((c.scheduleTriggerConfig as Json).cronExpression).toBeTruthy();
    expect(c.replicaTimeout).toBeTruthy();
    expect(job.properties.template.containers).toHaveLength(1);
  });

  it("uses only key paths the spec example or the spec's definitions have", () => {
    const known = new Set([
      ...keyPaths((example.parameters.JobEnvelope as { properties: Json }).properties),
      ...Object.values(example.responses).flatMap((r) => keyPaths((r.body as { properties: Json }).properties)),
      ...FROM_SPEC,
    ]);
    const used = keyPaths({ configuration: job.properties.configuration, template: job.properties.template });
    expect(used.length).toBeGreaterThan(10);
    for (const p of used) expect(known, p).toContain(p);
    const top = keyPaths({ identity: { type: job.identity.type } });
    for (const p of top) expect(keyPaths({ identity: example.parameters.JobEnvelope.identity })).toContain(p);
  });

  it("runs with the template's user-assigned identity, and tells the credential its client id", () => {
    expect(job.identity.type).toBe("UserAssigned");
    const identity = template.resources.find((r) => r.type === "Microsoft.ManagedIdentity/userAssignedIdentities");
    expect(identity).toBeDefined();
    expect(Object.keys(job.identity.userAssignedIdentities)).toHaveLength(1);
    const env = job.properties.template.containers[0]?.env as Array<{ name: string; value: string }>;
    expect(env.find((e) => e.name === "AZURE_CLIENT_ID")?.value).toMatch(/\.clientId\]$/);
  });

  it("runs the state wrapper around a scan with flags the CLI accepts, on the same state file", () => {
    const container = job.properties.template.containers[0] as { command: string[]; args: string };
    expect(container.command).toEqual(["node"]);
    // args = concat(variables('wrapperArgs'), parameters('scanArgs')) with the parameter's default.
    expect(container.args).toBe("[concat(variables('wrapperArgs'), parameters('scanArgs'))]");
    const stateFile = template.variables.stateFile as string;
    const args = [
      ...(template.variables.wrapperArgs as string[]),
      ...((template.parameters.scanArgs as { defaultValue: string[] }).defaultValue ?? []),
    ]
      .map((a) => (a === "[variables('stateFile')]" ? stateFile : a))
      .map((a) => (a === "[parameters('stateBlobUrl')]" ? "https://account.blob.core.windows.net/state/state.db" : a));
    expect(args[0]).toBe("/app/state-blob.ts");
    const { state, command } = parseWrapperArgs(args.slice(1));
    expect(state).toBe(stateFile);
    expect(command.slice(0, 2)).toEqual(["/app/node_modules/.bin/azure-exec-audit", "scan"]);
    const scan = command.slice(2);
    expectAcceptedFlags(scan);
    expect(scan.join(" ")).toContain("--auth managed-identity");
  });
});

describe("infra/container-apps-job/Dockerfile", () => {
  // No Docker daemon runs here: what the image does is checked by hand (npm pack, then
  // npm install --omit=dev of the tarball in an empty directory, then scan --demo from
  // node_modules/.bin); this test keeps the file to what that check covered.
  const docker = read("infra/container-apps-job/Dockerfile");
  const steps = docker.split("\n").filter((l) => l.trim() && !l.startsWith("#"));

  it("builds the package from the checkout, never a name from the npm registry", () => {
    expect(docker).not.toMatch(/npm install[^\n]*azure-exec-audit@/);
    expect(steps).toContain("COPY . .");
    expect(docker).toMatch(/npm ci[^\n]*&& npm pack --pack-destination \/pkg/);
    expect(docker).toMatch(/npm install --omit=dev[^\n]*\/pkg\/azure-exec-audit-\*\.tgz/);
  });

  it("copies only files that exist, from the repository root as its build context", () => {
    for (const l of steps.filter((x) => x.startsWith("COPY ") && !x.includes("--from=")))
      for (const src of l.split(/\s+/).slice(1, -1)) if (src !== ".") expect(() => read(src)).not.toThrow();
    const ignored = read(".dockerignore").split("\n");
    for (const p of ["node_modules", "dist", ".git"]) expect(ignored).toContain(p);
    // The job runs the package's bin where npm install puts it.
    expect(read("infra/container-apps-job/container-apps-job.json")).toContain(
      "/app/node_modules/.bin/azure-exec-audit",
    );
  });

  it("is built the way the docs say", () => {
    const cmd = "-f infra/container-apps-job/Dockerfile .";
    expect(read("docs/scheduled-scans.md")).toContain(cmd);
    expect(docker).toContain(cmd);
  });
});

describe("docs/scheduled-scans.md", () => {
  it("links both recipes' files and is linked from the README and infra/README.md", () => {
    const doc = read("docs/scheduled-scans.md");
    for (const f of [
      "../infra/github/azure-exec-audit.yml",
      "../infra/container-apps-job/container-apps-job.json",
      "../infra/container-apps-job/state-blob.ts",
      "../infra/container-apps-job/Dockerfile",
    ])
      expect(doc).toContain(`(${f})`);
    expect(read("README.md")).toContain("(docs/scheduled-scans.md)");
    expect(read("infra/README.md")).toContain("(../docs/scheduled-scans.md)");
  });
});
