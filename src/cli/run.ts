import { removeUnfinishedReports } from "../outputs/index.js";
import { main } from "./main.js";

// A reader that stops early (`| head`) closes the pipe: the rest of the output is not wanted,
// which is not an error. Without a listener the EPIPE would crash the process with a stack trace
// and exit 1, the code that means "findings at or above --fail-on". The command's own exit code
// stands; a report cut short this way is seen by main() as a closed pipe.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
}

// Interrupted: no report is left half written (reports are temporary files until complete), the
// state store's open transaction is never committed, and the exit code says which signal it was.
for (const [signal, number] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
] as const) {
  process.once(signal, () => {
    removeUnfinishedReports();
    try {
      process.stderr.write(`\nazure-exec-audit: interrupted (${signal}); no report was written\n`);
    } catch {
      // stderr may be gone too.
    }
    process.exit(128 + number);
  });
}

process.exitCode = await main(process.argv.slice(2));
