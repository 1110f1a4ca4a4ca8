/**
 * The official Kusto language service (@kusto/language-service-next, a Bridge.NET build) with the
 * AzureActivity table as Microsoft's table reference lists it (test/fixtures/reference/kql/
 * AzureActivity.columns.md, SOURCES.md). Queries parse and bind against it: an unknown column, a
 * wrong type or a syntax error is a diagnostic.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, "../../node_modules/@kusto/language-service-next");

interface Diagnostic {
  Severity: string;
  Code: string;
  Message: string;
  Start: number;
}
interface KustoLanguage {
  Symbols: {
    TableSymbol: { From(schema: string): { WithName(n: string): unknown } };
    DatabaseSymbol: new (name: string, tables: unknown[]) => unknown;
  };
  GlobalState: { Default: { WithDatabase(db: unknown): unknown } };
  KustoCode: {
    ParseAndAnalyze(q: string, g: unknown): { GetDiagnostics(): { Count: number; getItem(i: number): Diagnostic } };
  };
}

let K: KustoLanguage | undefined;

function kusto(): KustoLanguage {
  if (!K) {
    require(join(root, "bridge.js"));
    require(join(root, "Kusto.Language.Bridge.js"));
    K = (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
  }
  return K;
}

/** The Columns table of the reference page: name → type. */
export function referenceColumns(): Record<string, string> {
  const md = readFileSync(join(import.meta.dirname, "../fixtures/reference/kql/AzureActivity.columns.md"), "utf8");
  const section = md.slice(md.indexOf("## Columns"));
  const out: Record<string, string> = {};
  for (const line of section.split(/\r?\n/)) {
    const m = /^\| (\S+) \| (\w+) \|/.exec(line);
    if (m && m[1] !== "Column" && !m[1]?.startsWith("-")) out[m[1] as string] = m[2] as string;
  }
  return out;
}

let globals: unknown;

/** Every diagnostic the language service reports for a query over AzureActivity. */
export function diagnose(query: string): string[] {
  const k = kusto();
  if (!globals) {
    const cols = Object.entries(referenceColumns())
      .map(([n, t]) => `${n}:${t}`)
      .join(", ");
    const table = k.Symbols.TableSymbol.From(`(${cols})`).WithName("AzureActivity");
    globals = k.GlobalState.Default.WithDatabase(new k.Symbols.DatabaseSymbol("workspace", [table]));
  }
  const d = k.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
  const out: string[] = [];
  for (let i = 0; i < d.Count; i++) {
    const x = d.getItem(i);
    out.push(
      `${x.Severity} ${x.Code} at ${x.Start}: ${x.Message} (…${query.slice(Math.max(0, x.Start - 40), x.Start + 40)}…)`,
    );
  }
  return out;
}
