/**
 * The official Kusto language service (@kusto/language-service-next, a Bridge.NET build) loaded
 * as /work/shared/VERIFIED.md ("KQL validation") describes: bridge.js into global Bridge, then
 * Kusto.Language.Bridge.js; the API under global.Kusto.Language.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: the Bridge.NET API has no usable TypeScript surface here.
type Any = any;

let language: Any;

function kusto(): Any {
  if (!language) {
    const dir = dirname(require.resolve("@kusto/language-service-next/package.json"));
    require(join(dir, "bridge.js"));
    require(join(dir, "Kusto.Language.Bridge.js"));
    language = (globalThis as Any).Kusto.Language;
  }
  return language;
}

export interface KqlDiagnostic {
  severity: string;
  message: string;
  start: number;
}

/** Parses and type-checks `query` against the given tables (`name` → `(Col:type, …)`). */
export function analyze(query: string, tables: Record<string, string>): KqlDiagnostic[] {
  const K = kusto();
  const symbols = Object.entries(tables).map(([name, schema]) => K.Symbols.TableSymbol.From(schema).WithName(name));
  const db = new K.Symbols.DatabaseSymbol("db", symbols);
  const globals = K.GlobalState.Default.WithDatabase(db);
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const diagnostics = code.GetDiagnostics();
  const out: KqlDiagnostic[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    out.push({ severity: String(d.Severity), message: String(d.Message), start: Number(d.Start) });
  }
  return out;
}
