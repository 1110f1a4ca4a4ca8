// Strict command lines for the bench scripts: `-h`/`--help` prints the usage; an unknown option
// or a bad value prints one line naming it and the usage, and exits 2 — never a run with
// defaults the user did not ask for.
import { parseArgs } from "node:util";

/**
 * The command line read against `options` (node:util parseArgs specs), or exit. Returns the
 * values and readers over them: `opt` (a value or its default), `flag`, `number` (checked by
 * `ok`, named by `what` when refused) and `fail` (stop with a message).
 */
export function readOptions(name, usage, options) {
  const fail = (message) => {
    process.stderr.write(`${name}: ${message}\n\n${usage}`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const opt = (key, def) => values[key] ?? def;
  const flag = (key) => values[key] === true;
  const number = (key, def, ok, what) => {
    const v = Number(opt(key, def));
    if (!Number.isFinite(v) || !ok(v)) fail(`bad --${key} '${opt(key, def)}'${what ? ` (${what})` : ""}`);
    return v;
  };
  return { values, opt, flag, number, fail };
}
