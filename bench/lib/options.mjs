// Strict command lines for the bench scripts: `-h`/`--help` prints the usage; an unknown option
// or a bad value prints one line naming it and the usage, and exits 2 — never a run with
// defaults the user did not ask for.
import { parseArgs } from "node:util";

/** The values of `options` (node:util parseArgs specs) from the command line, or exit. */
export function readOptions(name, usage, options) {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    fail(name, usage, e.message);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return values;
}

/** Stops with one line naming what is wrong, then the usage. */
export function fail(name, usage, message) {
  process.stderr.write(`${name}: ${message}\n\n${usage}`);
  process.exit(2);
}
