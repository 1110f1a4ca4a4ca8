/**
 * Secrets, end to end (issue 14, item 3 and its acceptance): a scanned snapshot whose payloads
 * carry realistic fake secrets (test/fixtures/secrets/, formats cited in SOURCES.md) is scanned
 * with state, written in every format, and its rows exported to Sentinel (delivered to the fake
 * ingestion endpoint, and held in the state's outbox when delivery fails). No secret value —
 * nor its base64, base64url or URL-encoded form, nor any long alphanumeric run of it — may appear
 * in any output file, in the rows sent, or in the bytes of the SQLite state file and its WAL.
 * The findings must still be told apart and keep the non-secret context of their payloads.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/paths.js";
import { type FakeIngestion, RULE_ID, startFakeIngestion } from "../exporters/sentinel/fake-ingestion.js";
import { runCli, tempDir } from "../helpers.js";

const FIXTURES = join(PACKAGE_ROOT, "test/fixtures/secrets");
const RECORDS = join(FIXTURES, "records");
const SECRETS = (
  JSON.parse(readFileSync(join(FIXTURES, "secrets.json"), "utf8")) as { secrets: { name: string; value: string }[] }
).secrets;
const FORMATS = ["table", "json", "sarif", "markdown", "csv", "html", "navigator"] as const;

/** Every form a secret could leak in. */
function needles(value: string): string[] {
  const out = new Set<string>([
    value,
    Buffer.from(value).toString("base64"),
    Buffer.from(value).toString("base64url"),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ]);
  // Any escaping an output applies (HTML entities, Markdown, CSV quoting) leaves long runs intact.
  for (const run of value.match(/[A-Za-z0-9]{12,}/g) ?? []) out.add(run);
  return [...out];
}

/** `name: needle` for each secret found in `text`. */
function leaks(text: string): string[] {
  const out: string[] = [];
  for (const s of SECRETS)
    for (const n of needles(s.value))
      if (text.includes(n)) {
        out.push(`${s.name}: …${n.slice(0, 12)}…`);
        break;
      }
  return out;
}

const tmp = tempDir();
let fake: FakeIngestion;
beforeAll(async () => {
  fake = await startFakeIngestion();
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});

describe("no secret from the samples reaches any output, export or the state file", () => {
  const state = join(tmp.dir, "state.db");
  const outputs = FORMATS.map((f) => ({ format: f, file: join(tmp.dir, `report.${f}`) }));
  let first: Awaited<ReturnType<typeof runCli>>;
  let second: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    // The first scan's Sentinel delivery fails: its rows stay in the state's outbox.
    fake.respond = () => ({ status: 500 });
    const sentinel = ["--sentinel-endpoint", fake.url, "--sentinel-rule-id", RULE_ID, "--auth", "env"];
    first = await runCli(
      [
        "scan",
        "--input",
        RECORDS,
        "--state",
        state,
        ...outputs.flatMap((o) => ["--output", `${o.format}=${o.file}`]),
        ...sentinel,
      ],
      fake.env(),
    );
    // A second scan delivers (its rows and the outbox's).
    fake.respond = () => undefined;
    second = await runCli(
      [
        "scan",
        "--input",
        RECORDS,
        "--state",
        state,
        "--format",
        "json",
        "--output",
        join(tmp.dir, "second.json"),
        ...sentinel,
      ],
      fake.env(),
    );
  }, 120_000);

  it("the samples are what the scan reads: findings on each kind of payload", () => {
    expect(SECRETS.length).toBeGreaterThanOrEqual(30);
    // Exit 1 (findings at the default --fail-on) or 2 (the first run's undelivered rows).
    expect(first.code, first.stderr).toBe(2);
    expect(first.stderr).toMatch(/outbox/);
    expect(second.code, second.stderr).not.toBe(3);
    const report = JSON.parse(readFileSync(outputs[1]?.file as string, "utf8")) as {
      findings: { ruleId: string; resourceId?: string; evidence: unknown }[];
    };
    const resources = new Set(report.findings.map((f) => f.resourceId?.split("/").slice(-2).join("/")));
    for (const r of [
      "runCommands/update-agent",
      "runCommands/win-maint",
      "extensions/AzureMonitorAgent",
      "sites/func-secrets",
      "deployments/init-secrets",
    ])
      expect(resources, r).toContain(r);
    expect(report.findings.some((f) => JSON.stringify(f.evidence).includes("crsecrets.azurecr.io/tools/updater"))).toBe(
      true,
    );
  });

  it.each(FORMATS)("%s output holds no secret", (format) => {
    const text = readFileSync(outputs.find((o) => o.format === format)?.file as string, "utf8");
    expect(text.length).toBeGreaterThan(500);
    expect(leaks(text)).toEqual([]);
  });

  it("the terminal output holds none", () => {
    expect(leaks(first.stdout + first.stderr + second.stdout + second.stderr)).toEqual([]);
  });

  it("the rows sent to Sentinel hold none", () => {
    const rows = fake.calls.flatMap((c) => c.rows);
    expect(fake.accepted().length).toBeGreaterThan(5);
    expect(leaks(JSON.stringify(rows))).toEqual([]);
  });

  it("the state file (database and WAL bytes, outbox included) holds none", () => {
    let bytes = "";
    for (const f of [state, `${state}-wal`, `${state}-journal`]) if (existsSync(f)) bytes += readFileSync(f, "latin1");
    expect(bytes.length).toBeGreaterThan(10_000);
    expect(bytes).toContain("init-secrets");
    expect(leaks(bytes)).toEqual([]);
  });

  it("findings are still told apart, with the non-secret context of their payloads", () => {
    const report = JSON.parse(readFileSync(outputs[1]?.file as string, "utf8")) as {
      findings: { ruleId: string; resourceId?: string; evidence: unknown }[];
    };
    const keys = report.findings.map((f) => `${f.ruleId} ${f.resourceId}`);
    expect(new Set(keys).size).toBe(keys.length);
    const text = JSON.stringify(report.findings);
    for (const kept of [
      // What was reached and how, with the secret's place marked.
      "REDACTED",
      "curl -fsSL",
      "http://198.51.100.23/s2.sh",
      "sig=REDACTED",
      "sv=2022-11-02",
      "net user backdoor",
      "-----BEGIN RSA PRIVATE KEY-----",
      "https://cdn-updates.example.net/pkg/secrets.zip",
      "adminPassword",
    ])
      expect(text, kept).toContain(kept);
  });
});
