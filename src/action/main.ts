/**
 * The GitHub Action's entry point (bundled into dist-action/index.js by scripts/build-action.mjs).
 * The step's exit code is the CLI's (docs/cli.md): 1 findings, 2 incomplete, 3 usage, 4 internal.
 */
import { removeUnfinishedReports } from "../outputs/index.js";
import { runAction } from "./run.js";

// Cancelled: no report is left half written, as with the CLI.
process.once("SIGTERM", () => {
  removeUnfinishedReports();
  process.exit(143);
});

process.exitCode = await runAction();
