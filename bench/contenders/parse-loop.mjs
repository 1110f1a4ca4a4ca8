// Baseline contender: a plain readline + JSON.parse loop over every line of the file, the floor
// for any JavaScript reader of JSON Lines. It also counts the events whose operation name is in
// the pack's list (a Set lookup per event, noise next to JSON.parse), so that its count can be
// checked against jq's and DuckDB's.
//   node bench/contenders/parse-loop.mjs FILE export|rest OPS_JSON_FILE
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const [file, shape, opsFile] = process.argv.slice(2);
const ops = new Set(JSON.parse(readFileSync(opsFile, "utf8")));
const rest = shape === "rest";
const rl = createInterface({
  input: createReadStream(file, { encoding: "utf8" }),
  crlfDelay: Number.POSITIVE_INFINITY,
});
let lines = 0;
let events = 0;
let matches = 0;
for await (const line of rl) {
  if (line === "") continue;
  lines++;
  const v = JSON.parse(line);
  if (rest) {
    for (const e of v.value) {
      events++;
      if (ops.has(String(e.operationName?.value).toLowerCase())) matches++;
    }
  } else {
    events++;
    if (ops.has(String(v.operationName).toLowerCase())) matches++;
  }
}
const ru = process.resourceUsage();
process.stdout.write(
  `${JSON.stringify({ lines, events, matches, maxRssKB: ru.maxRSS, userS: ru.userCPUTime / 1e6, sysS: ru.systemCPUTime / 1e6 })}\n`,
);
