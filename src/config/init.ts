/**
 * `azure-exec-audit init`: a commented starter config. It is valid as written (a test loads it),
 * so a user edits a working file rather than debugging a template.
 */
import { writeFileSync } from "node:fs";
import { UsageError } from "../util/errors.js";

export const STARTER_CONFIG = `# azure-exec-audit configuration (docs/cli.md#config-file).
#
# Precedence: command-line flags beat environment variables (AZURE_EXEC_AUDIT_FAIL_ON,
# _FORMAT, _OUTPUT, _SINCE, _SUPPRESSIONS, _BASELINE), which beat this file.
# Relative paths are relative to this file's directory.

# What to scan: name one of the three. When the command line names something to scan
# (--demo, --input, --subscription, --all-subscriptions, --management-group, --workspace,
# --archive), this section and "sources" are ignored.
scopes:
  allSubscriptions: true
  # subscriptions:
  #   - 00000000-0000-0000-0000-000000000000
  # managementGroup: my-management-group

# Where else records come from. By default the Activity Log is read from its API.
# sources:
#   workspace: 00000000-0000-0000-0000-000000000000   # a Log Analytics workspace (its GUID)
#   archive: https://<account>.blob.core.windows.net/insights-activity-logs
#   inputs:                                             # exported files or directories
#     - ./exports

# The Activity Log window: a duration back (7d, 24h, 90m) or an ISO date.
# At most 90 days back when the Activity Log API is read.
lookback:
  since: 7d

# Extra Sigma rule directories, loaded after the built-in pack.
# rules:
#   - ./my-rules

# Accepted findings: a list here, or the path of a suppression file.
# Every entry needs a reason and an expires date; expired entries stop applying.
suppressions: []
#  - rule: 2c2714bf-*                         # a rule id, or a glob of rule ids
#    resource: /subscriptions/*/resourceGroups/rg-ci/*
#    principal: ci-deployer                   # object id, application id or display name
#    reason: the CI identity assigns its own roles during bootstrap (CHG-1234)
#    expires: 2027-03-31

# A JSON report of an earlier scan: --fail-on then fails only on findings not in it.
# baseline: ./baseline.json

# Exit 1 when a finding at or above this severity is neither suppressed nor in the baseline:
# informational, low, medium, high or critical.
failOn: high

# The report: format (table, json or sarif; default table on a terminal, json otherwise)
# and the file it is written to (default stdout); reports, more files of the same scan.
# output:
#   format: table
#   reports:
#     json: reports/report.json
#     sarif: results.sarif
#   sarifArtifactUri: .github/azure-exec-audit.yml

# Report (and gate on) only these severities.
# severity: [critical, high, medium]

# Which rules run: ids, tags (attack.t1651), levels, or globs over ids and rule files.
# disable: [attack.t1059.009]

# The state store's file, or false for none.
# state: ./.azure-exec-audit/state.db

# Azure requests in flight (1 to 64).
maxConcurrency: 8

# Read Function App settings (they hold secrets: only what rules read is kept, redacted).
readAppSettings: false

# Send findings to Microsoft Sentinel (docs/sentinel.md): the data collection rule's logs
# ingestion endpoint and immutable id. Rows not delivered wait in the state's outbox.
# sentinel:
#   endpoint: https://<dcr>.<region>.ingest.monitor.azure.com
#   ruleId: dcr-00000000000000000000000000000000
`;

/** Writes the starter config; an existing file is kept unless `force`. */
export function writeStarterConfig(file: string, label: string, force: boolean): void {
  try {
    writeFileSync(file, STARTER_CONFIG, { flag: force ? "w" : "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new UsageError(`${label} already exists; pass --force to overwrite it`);
    throw new UsageError(`cannot write ${label} (${code ?? (e as Error).message})`);
  }
}
