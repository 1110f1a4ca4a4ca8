/**
 * Normalised records. Every source shape (REST, diagnostic export, AzureActivity table row,
 * `az` CLI output, snapshot files) maps onto one of these, so detectors never care where a
 * record came from. Records are plain frozen objects; `raw` keeps the original for evidence.
 */

/** Where a record was read from, for evidence and error messages. */
export interface Origin {
  /** Source shape, e.g. "activity-rest", "activity-export", "activity-table", "role-assignment-rest". */
  shape: string;
  /** File path (or URL for live sources). */
  location: string;
  /** 1-based line (of JSON Lines, or where the record starts in a JSON document). */
  index?: number;
  /**
   * 0-based index of the record among the records on its line, when the line holds more than
   * one (a one-line JSON document, an Event Hub batch per line): the line alone does not find it.
   */
  element?: number;
}

export interface Principal {
  /** Object id (the `oid` claim, or authorization evidence principalId). */
  id?: string;
  /** UPN, display name or caller string. */
  name?: string;
  /** User, ServicePrincipal, ManagedIdentity, Group, … when known. */
  type?: string;
  /** Client application id (the `appid` / `azp` claim). */
  appId?: string;
}

/** Azure Activity Log event, whatever shape it arrived in. */
export interface ActivityEvent {
  kind: "activity";
  /** eventDataId when present (REST/table); otherwise a synthetic id derived from the record. */
  id: string;
  eventDataId?: string;
  correlationId?: string;
  operationId?: string;
  /** ISO-8601 UTC. REST eventTimestamp, export `time`, table TimeGenerated. */
  time: string;
  /** operationName.value as Azure wrote it; compare through `operation` (lower case). */
  operationName: string;
  /** Lower-cased operation name, the dispatch key. */
  operation: string;
  operationLocalized?: string;
  /** Administrative, Policy, Security, … */
  category?: string;
  /** Started, Accepted, Succeeded, Failed (export resultType Start/Accept/Success/Failure mapped). */
  status?: string;
  subStatus?: string;
  eventName?: string;
  level?: string;
  resourceId?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  resourceProvider?: string;
  resourceType?: string;
  tenantId?: string;
  caller?: string;
  callerIpAddress?: string;
  principal: Principal;
  claims: Readonly<Record<string, string>>;
  authorization?: {
    action?: string;
    scope?: string;
    role?: string;
    evidence?: Readonly<Record<string, string>>;
  };
  httpRequest?: { clientRequestId?: string; clientIpAddress?: string; method?: string; uri?: string };
  properties: Readonly<Record<string, unknown>>;
  origin: Origin;
  raw: unknown;
}

export interface RoleAssignment {
  kind: "roleAssignment";
  id: string;
  name?: string;
  scope: string;
  principalId: string;
  principalType?: string;
  principalName?: string;
  roleDefinitionId: string;
  /** Lower-cased GUID at the end of roleDefinitionId, the join key to RoleDefinition. */
  roleDefinitionGuid: string;
  roleDefinitionName?: string;
  createdOn?: string;
  createdBy?: string;
  condition?: string;
  origin: Origin;
  raw: unknown;
}

export interface Permission {
  actions: readonly string[];
  notActions: readonly string[];
  dataActions: readonly string[];
  notDataActions: readonly string[];
}

export interface RoleDefinition {
  kind: "roleDefinition";
  id: string;
  /** Lower-cased GUID (the definition's name). */
  guid: string;
  roleName: string;
  roleType?: string;
  description?: string;
  assignableScopes: readonly string[];
  permissions: readonly Permission[];
  origin: Origin;
  raw: unknown;
}

export interface FunctionApp {
  kind: "functionApp";
  id: string;
  name: string;
  subscriptionId?: string;
  resourceGroup?: string;
  /** Site kind, e.g. "functionapp,linux" or "app". */
  siteKind: string;
  isFunctionApp: boolean;
  location?: string;
  state?: string;
  /** App settings, values as read (redacted only at output time). Absent when not collected. */
  appSettings?: Readonly<Record<string, string>>;
  linuxFxVersion?: string;
  appCommandLine?: string;
  origin: Origin;
  raw: unknown;
}

export interface ImageConfig {
  entrypoint: readonly string[];
  cmd: readonly string[];
  env: readonly string[];
  user?: string;
  workingDir?: string;
  labels: Readonly<Record<string, string>>;
  /** history[].created_by, in order. */
  history: readonly string[];
  created?: string;
  architecture?: string;
  os?: string;
}

/**
 * A file read from one of the image's small layers (the registry collector, docs/payloads.md):
 * one of the files that run in a container or on a login (cron, shell profiles, systemd units,
 * authorized_keys). Attacker-controlled text, capped at MAX_PAYLOAD_CHARS.
 */
export interface ImageFile {
  /** Absolute path in the image, e.g. /etc/cron.d/backup. */
  path: string;
  /** Digest of the layer it came from. */
  layer: string;
  /** Position of that layer in the manifest's `layers`, when the manifest is known. */
  layerIndex?: number;
  content: string;
  truncated: boolean;
}

export interface ContainerImage {
  kind: "containerImage";
  /** registry/repository@digest */
  id: string;
  registry: string;
  repository: string;
  tags: readonly string[];
  digest?: string;
  createdTime?: string;
  mediaType?: string;
  /** Parsed image config; undefined when only the manifest listing was available. */
  config?: ImageConfig;
  /** Files read from small layers (envelope `files`); absent when no layer was read. */
  files?: readonly ImageFile[];
  origin: Origin;
  raw: unknown;
}

/**
 * Generic ARM resource configuration (GET body): run commands, extensions, container groups,
 * deployment scripts, … Derivers recover payloads from these.
 */
export interface ArmResource {
  kind: "resource";
  id: string;
  name: string;
  /** ARM type as written, e.g. Microsoft.Compute/virtualMachines/runCommands. */
  type: string;
  /** Lower-cased type, the dispatch key. */
  typeLower: string;
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  properties: Readonly<Record<string, unknown>>;
  identity?: unknown;
  origin: Origin;
  raw: unknown;
}

export type PayloadKind = "script" | "command" | "url" | "image";

/** The configuration record a payload was recovered from (its provenance). */
export interface PayloadSource {
  kind: "resource" | "functionApp" | "containerImage";
  /** ARM id, or `registry/repo@digest` for an image. */
  id: string;
}

/** Something that runs (or is fetched to run), recovered from configuration. */
export interface Payload {
  kind: "payload";
  id: string;
  source: PayloadSource;
  payloadKind: PayloadKind;
  /** The script text, command line, URL or image reference (capped; see MAX_PAYLOAD_CHARS). */
  content: string;
  /** True when content was longer than the cap and was cut. */
  truncated: boolean;
  /** Where in the source configuration it was found, e.g. "properties.source.script". */
  path: string;
  /** ARM id of the resource (or image id) it came from. */
  resourceId: string;
  resourceType: string;
  subscriptionId?: string;
  /** The execution vector this payload belongs to, e.g. "VM managed run command". */
  vector: string;
  /** ATT&CK techniques of the vector (payload rules add their own). */
  vectorTechniques: readonly string[];
  origin: Origin;
}

/** Who can execute where: one per role assignment whose role covers an execution operation. */
export interface Grant {
  kind: "grant";
  id: string;
  principalId: string;
  principalType?: string;
  principalName?: string;
  scope: string;
  roleDefinitionId: string;
  roleName: string;
  /** Execution operations the role allows (lower case). */
  operations: string[];
  assignment: RoleAssignment;
  origin: RoleAssignment["origin"];
}

export type AuditRecord =
  | ActivityEvent
  | RoleAssignment
  | RoleDefinition
  | FunctionApp
  | ContainerImage
  | ArmResource
  | Grant
  | Payload;

export type RecordKind = AuditRecord["kind"];

/** Payload text kept per payload; attacker-controlled, so bounded. */
export const MAX_PAYLOAD_CHARS = 64 * 1024;

/** Where a record's bytes are, so a stage can read it in full later. */
export interface LineRef {
  file: string;
  /** 1-based line in the (decompressed) file. */
  line: number;
  /** Byte offset of the line in the (decompressed) file, and its length. */
  offset: number;
  length: number;
  gzip: boolean;
}

/**
 * Set (by the collector, on the main thread) on an Activity Log record whose first-seen
 * observation a worker thread already applied to the baselines it sends back as its share: the
 * engine then only matches it, and the main thread does not hash its tuples a second time.
 */
export const BASELINE_APPLIED: unique symbol = Symbol("azure-exec-audit.baselineApplied");

/** Whether a worker thread already applied this record to first-seen baselines (see BASELINE_APPLIED). */
export function baselineApplied(r: AuditRecord): boolean {
  return (r as { [BASELINE_APPLIED]?: boolean })[BASELINE_APPLIED] === true;
}

/**
 * An Activity Log event that no loaded rule can match, read from its bytes without parsing:
 * only what scan-wide stages need of every event (the window, first-seen baselines, who wrote
 * what). `at` lets attribution read the line in full if a configuration record needs its author.
 */
export interface ActivityObservation {
  kind: "observation";
  time: string;
  /** Lower-cased operation name. */
  operation: string;
  resourceId?: string;
  /** Started, Accepted, Succeeded, Failed, … as the full normaliser would give it. */
  status?: string;
  principalId?: string;
  appId?: string;
  callerIpAddress?: string;
  at: LineRef;
}

/**
 * Observations applied elsewhere (a worker thread's share of a file): how many, their window,
 * and the baselines and latest writes they made, as plain data for the stages to merge.
 */
/**
 * One first-seen tuple's baseline as packed buffers (engine/baseline.ts): key hashes and the
 * codes of their earliest times; what a worker thread transfers back rather than clones.
 */
export interface BaselinePart {
  keys: Float64Array;
  hi: Float64Array;
  lo: Float64Array;
  /** Keys whose time is not of the encodable form, with the time as written. */
  odd: [number, string][];
}

export interface ObservationShare {
  kind: "observations";
  observed: number;
  from?: string;
  to?: string;
  baselines: { baselines: [string, BaselinePart][]; dropped: [string, number][] };
  writes: { writes: [number, unknown][]; registries: [string, string][]; dropped: number };
}

/** What a collector yields: records, observations of events only baselines need, and shares of them. */
export type CollectedItem = AuditRecord | ActivityObservation | ObservationShare;
