/** The output registry: its API, and a format registered from a test file driving the real CLI. */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/main.js";
import {
  formatNames,
  formats,
  getFormat,
  jsonFormat,
  type OutputFormat,
  registerFormat,
} from "../../src/outputs/index.js";
import { tempDir } from "../helpers.js";
import { tsvFormat } from "./fixtures/tsv-format.js";

/** Every directory a test makes is under this one, removed after the file's tests. */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const noop: OutputFormat["render"] = async () => undefined;

describe("format registry", () => {
  it("lists the built-ins in order and finds them whatever the case", () => {
    expect(formatNames().slice(0, 7)).toEqual(["table", "json", "sarif", "markdown", "csv", "html", "navigator"]);
    expect(formats().map((f) => f.name)).toEqual(formatNames());
    expect(getFormat("JSON")).toBe(jsonFormat);
    expect(getFormat("Sarif")?.name).toBe("sarif");
    expect(getFormat("hasOwnProperty")).toBeUndefined();
  });

  it("refuses a duplicate name", () => {
    expect(() => registerFormat({ ...jsonFormat })).toThrow(/"json" is already registered/);
  });

  it("refuses names and options the CLI could not take", () => {
    const base = { description: "x", render: noop };
    expect(() => registerFormat({ ...base, name: "TSV2" })).toThrow(/lower-case/);
    expect(() => registerFormat({ ...base, name: "my format" })).toThrow(/lower-case/);
    expect(() =>
      registerFormat({ ...base, name: "xml", options: [{ flag: "--pretty", description: "x", key: "pretty" }] }),
    ).toThrow(/must be a long flag starting with --xml-/);
    expect(() =>
      registerFormat({ ...base, name: "xml", options: [{ flag: "-x, --xml-pretty", description: "x", key: "p" }] }),
    ).toThrow(/long flag/);
    expect(() =>
      registerFormat({
        ...base,
        name: "xml",
        options: [
          { flag: "--xml-pretty", description: "x", key: "p" },
          { flag: "--xml-indent <n>", description: "x", key: "p" },
        ],
      }),
    ).toThrow(/needs a key of its own/);
    // "sarif-artifact" may use --sarif-artifact-…, but sarif already has --sarif-artifact-uri.
    expect(() =>
      registerFormat({
        ...base,
        name: "sarif-artifact",
        options: [{ flag: "--sarif-artifact-uri <p>", description: "x", key: "uri" }],
      }),
    ).toThrow(/--sarif-artifact-uri is already registered/);
    expect(getFormat("xml")).toBeUndefined();
    expect(getFormat("sarif-artifact")).toBeUndefined();
  });
});

describe("a format registered from one test file", () => {
  let main: (argv: string[], io: Io) => Promise<number>;
  let EXIT: { ok: number; usage: number };

  async function run(...argv: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    // The CLI module is loaded before the format exists: only main() may read the registry.
    ({ main, EXIT } = await import("../../src/cli/main.js"));
    expect((await run("scan", "--no-state", "--help")).stdout).not.toContain("tsv");
    registerFormat(tsvFormat);
  });

  it("is a --format choice with its options in help", async () => {
    // Commander wraps help lines; one space per gap makes the choices one string.
    const help = (await run("scan", "--no-state", "--help")).stdout.replace(/\s+/g, " ");
    expect(help).toMatch(/choices: "table", "json", "sarif", "markdown", "csv", "html", "navigator", "tsv"/);
    expect(help).toContain("--tsv-delimiter <char>");
    expect(help).toContain("--sarif-artifact-uri <path>");
  });

  it("renders the demo scan", async () => {
    const r = await run("scan", "--no-state", "--demo", "--format", "tsv");
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("id,severity,ruleId,resourceId");
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(1)) expect(l).toMatch(/^"[^"]+","(informational|low|medium|high|critical)",/);
  });

  it("gets its own option values, defaults included", async () => {
    const r = await run("scan", "--no-state", "--demo", "--format", "tsv", "--tsv-delimiter", ";", "--tsv-no-header");
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^"[^"]+";"[a-z]+";/);
  });

  it("rejects another format's option as a usage error, before scanning", async () => {
    const tsvWithSarif = await run("scan", "--no-state", "--demo", "--format", "tsv", "--sarif-artifact-uri", "a.yml");
    expect(tsvWithSarif.code).toBe(EXIT.usage);
    expect(tsvWithSarif.stderr).toContain("--sarif-artifact-uri applies to --format sarif only");
    const jsonWithTsv = await run("scan", "--no-state", "--demo", "--format", "json", "--tsv-delimiter", ";");
    expect(jsonWithTsv.code).toBe(EXIT.usage);
    expect(jsonWithTsv.stderr).toContain("--tsv-delimiter applies to --format tsv only");
  });
});

describe("--output and --sarif-artifact-uri through the CLI", () => {
  let main: (argv: string[], io: Io) => Promise<number>;
  let EXIT: { ok: number; usage: number };
  beforeAll(async () => {
    ({ main, EXIT } = await import("../../src/cli/main.js"));
  });
  const quiet: Io = { stdout: () => undefined, stderr: () => undefined, isTTY: false };

  it("writes SARIF to the file with the given artifact path", async () => {
    const out = join(await mkdtemp(join(tmp.dir, "aea-out-")), "results.sarif");
    const argv = [
      "scan",
      "--no-state",
      "--demo",
      "--format",
      "sarif",
      "--sarif-artifact-uri",
      ".github/workflows/audit.yml",
    ];
    expect(await main([...argv, "--output", out], quiet)).toBe(EXIT.ok);
    const log = JSON.parse(await readFile(out, "utf8"));
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(
      ".github/workflows/audit.yml",
    );
  });

  it("leaves an existing --output file alone when the artifact path is rejected", async () => {
    const out = join(await mkdtemp(join(tmp.dir, "aea-out-")), "results.sarif");
    await writeFile(out, "previous report\n");
    let stderr = "";
    const io: Io = { ...quiet, stderr: (s) => (stderr += s) };
    const argv = [
      "scan",
      "--no-state",
      "--demo",
      "--format",
      "sarif",
      "--sarif-artifact-uri",
      "/etc/passwd",
      "--output",
      out,
    ];
    expect(await main(argv, io)).toBe(EXIT.usage);
    expect(stderr).toMatch(/relative to the repository root/);
    expect(await readFile(out, "utf8")).toBe("previous report\n");
  });

  it("an unwritable --output is a usage error", async () => {
    const dir = await mkdtemp(join(tmp.dir, "aea-out-"));
    // A missing directory is created; one that cannot be (a file is in the way) cannot be written.
    await writeFile(join(dir, "no"), "a file");
    let stderr = "";
    const io: Io = { ...quiet, stderr: (s) => (stderr += s) };
    const code = await main(
      ["scan", "--no-state", "--demo", "--format", "json", "--output", join(dir, "no", "such", "r.json")],
      io,
    );
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/cannot write --output .*\(ENOTDIR\)/);
  });
});
