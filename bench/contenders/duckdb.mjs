// DuckDB contender: count(*) of the events whose operation name is in the pack's list, straight
// from the JSON Lines file with read_json(format='newline_delimited'). Imported lazily: only this
// script needs @duckdb/node-api (a devDependency); without it the bench skips DuckDB with a note.
//   node bench/contenders/duckdb.mjs FILE export|rest OPS_JSON_FILE
import { readFileSync } from "node:fs";

const [file, shape, opsFile] = process.argv.slice(2);
const ops = JSON.parse(readFileSync(opsFile, "utf8"));
let api;
try {
  api = await import("@duckdb/node-api");
} catch (e) {
  process.stdout.write(
    `${JSON.stringify({ skipped: `@duckdb/node-api is not installed (${e.code ?? e.message})` })}\n`,
  );
  process.exit(0);
}
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const list = ops.map(q).join(", ");
const src = `read_json(${q(file)}, format = 'newline_delimited')`;
const sql =
  shape === "rest"
    ? `SELECT count(*) AS n FROM (SELECT unnest(value) AS e FROM ${src}) WHERE lower(e.operationName.value) IN (${list})`
    : `SELECT count(*) AS n FROM ${src} WHERE lower(operationName) IN (${list})`;
const instance = await api.DuckDBInstance.create(":memory:");
const con = await instance.connect();
const settings = (await con.runAndReadAll("SELECT current_setting('threads') AS t, version() AS v")).getRowObjects()[0];
const rows = (await con.runAndReadAll(sql)).getRowObjects();
const ru = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({ matches: Number(rows[0].n), threads: Number(settings.t), version: settings.v, maxRssKB: ru.maxRSS, userS: ru.userCPUTime / 1e6, sysS: ru.systemCPUTime / 1e6 })}\n`,
);
