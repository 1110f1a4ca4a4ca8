/**
 * Which roles can execute code, and who holds them where. A role can execute when its actions
 * (wildcards expanded, notActions removed) cover one of EXECUTION_OPERATIONS — the Activity Log
 * operations of the execution vectors in detections/vectors.yml. Built-in roles come from
 * data/builtin-role-definitions.json (real definitions; built-in ids are the same in every
 * tenant); custom roles and newer built-ins from role definitions in the scanned input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Grant, Permission, RoleAssignment, RoleDefinition } from "../model/records.js";
import { PACKAGE_ROOT } from "../paths.js";

/**
 * Control-plane operations that run code or plant code to run (lower case). Deployments and
 * role assignments are left out on purpose: a deployment runs with the caller's own rights on
 * what it deploys (many reader roles hold Microsoft.Resources/deployments/*), and granting roles
 * is privilege, not execution.
 */
export const EXECUTION_OPERATIONS: readonly string[] = [
  "microsoft.compute/virtualmachines/runcommand/action",
  "microsoft.compute/virtualmachines/runcommands/write",
  "microsoft.compute/virtualmachinescalesets/virtualmachines/runcommand/action",
  "microsoft.compute/virtualmachinescalesets/virtualmachines/runcommands/write",
  "microsoft.compute/virtualmachines/extensions/write",
  "microsoft.compute/virtualmachinescalesets/extensions/write",
  "microsoft.compute/virtualmachinescalesets/virtualmachines/extensions/write",
  "microsoft.compute/virtualmachines/write",
  "microsoft.compute/galleries/applications/versions/write",
  "microsoft.serialconsole/serialports/connect/action",
  "microsoft.hybridcompute/machines/runcommands/write",
  "microsoft.hybridcompute/machines/extensions/write",
  "microsoft.containerservice/managedclusters/runcommand/action",
  "microsoft.containerservice/managedclusters/listclusteradmincredential/action",
  "microsoft.containerinstance/containergroups/write",
  "microsoft.containerinstance/containergroups/containers/exec/action",
  "microsoft.app/containerapps/write",
  "microsoft.app/jobs/write",
  "microsoft.app/jobs/start/action",
  "microsoft.containerregistry/registries/importimage/action",
  "microsoft.containerregistry/registries/schedulerun/action",
  "microsoft.containerregistry/registries/tasks/write",
  "microsoft.web/sites/write",
  "microsoft.web/sites/config/write",
  "microsoft.web/sites/functions/write",
  "microsoft.web/sites/extensions/write",
  "microsoft.web/sites/sourcecontrols/write",
  "microsoft.web/sites/publishxml/action",
  "microsoft.web/sites/host/listkeys/action",
  "microsoft.logic/workflows/write",
  "microsoft.logic/workflows/triggers/run/action",
  "microsoft.automation/automationaccounts/runbooks/write",
  "microsoft.automation/automationaccounts/runbooks/draft/write",
  "microsoft.automation/automationaccounts/jobs/write",
  "microsoft.automation/automationaccounts/webhooks/write",
  "microsoft.automation/automationaccounts/hybridrunbookworkergroups/write",
  "microsoft.resources/deploymentscripts/write",
  "microsoft.batch/batchaccounts/pools/write",
  "microsoft.virtualmachineimages/imagetemplates/run/action",
  "microsoft.datafactory/factories/pipelines/createrun/action",
  "microsoft.hdinsight/clusters/executescriptactions/action",
  "microsoft.machinelearningservices/workspaces/jobs/write",
  "microsoft.compute/virtualmachines/diagnosticruncommand/action",
  "microsoft.compute/virtualmachines/diagnosticruncommands/write",
  "microsoft.avs/privateclouds/scriptexecutions/write",
  "microsoft.devtestlab/labs/virtualmachines/applyartifacts/action",
  "microsoft.web/sites/sitecontainers/write",
];

/** RBAC action pattern → test. `*` spans any characters, `/` included; case-insensitive. */
function actionMatcher(pattern: string): (op: string) => boolean {
  const p = pattern.toLowerCase();
  if (!p.includes("*")) return (op) => op === p;
  const parts = p.split("*");
  return (op) => {
    if (!op.startsWith(parts[0] as string)) return false;
    let at = (parts[0] as string).length;
    for (let i = 1; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1) return op.length - part.length >= at && op.endsWith(part);
      const found = op.indexOf(part, at);
      if (found < 0) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** The execution operations a set of permissions allows. */
export function executionOperations(permissions: readonly Permission[]): string[] {
  const out = new Set<string>();
  for (const perm of permissions) {
    const allow = perm.actions.map(actionMatcher);
    const deny = perm.notActions.map(actionMatcher);
    for (const op of EXECUTION_OPERATIONS) {
      if (allow.some((m) => m(op)) && !deny.some((m) => m(op))) out.add(op);
    }
  }
  return [...out];
}

interface RoleInfo {
  guid: string;
  roleName: string;
  operations: string[];
}

interface BuiltinFile {
  roles: { name: string; roleName: string; permissions: Permission[] }[];
}

let builtins: Map<string, RoleInfo> | undefined;

function builtinRoles(): Map<string, RoleInfo> {
  if (!builtins) {
    const file = JSON.parse(
      readFileSync(join(PACKAGE_ROOT, "data", "builtin-role-definitions.json"), "utf8"),
    ) as BuiltinFile;
    builtins = new Map(
      file.roles.map((r) => [
        r.name.toLowerCase(),
        { guid: r.name.toLowerCase(), roleName: r.roleName, operations: executionOperations(r.permissions) },
      ]),
    );
  }
  return builtins;
}

/** Role lookups for one scan: built-ins plus the definitions read so far. */
export class RoleCatalog {
  private custom = new Map<string, RoleInfo>();

  add(def: RoleDefinition): void {
    this.custom.set(def.guid, {
      guid: def.guid,
      roleName: def.roleName,
      operations: executionOperations(def.permissions),
    });
  }

  /** By role definition id or GUID. */
  get(roleDefinitionId: string): RoleInfo | undefined {
    const guid = roleDefinitionId.slice(roleDefinitionId.lastIndexOf("/") + 1).toLowerCase();
    return this.custom.get(guid) ?? builtinRoles().get(guid);
  }

  canExecute(roleDefinitionId: string): boolean {
    return (this.get(roleDefinitionId)?.operations.length ?? 0) > 0;
  }
}

export function grantsOf(assignments: Iterable<RoleAssignment>, catalog: RoleCatalog): Grant[] {
  const out: Grant[] = [];
  for (const a of assignments) {
    const role = catalog.get(a.roleDefinitionId);
    if (!role || role.operations.length === 0) continue;
    const g: Grant = {
      kind: "grant",
      id: a.id,
      principalId: a.principalId,
      scope: a.scope,
      roleDefinitionId: a.roleDefinitionId,
      roleName: role.roleName,
      operations: role.operations,
      assignment: a,
      origin: a.origin,
    };
    if (a.principalType) g.principalType = a.principalType;
    if (a.principalName) g.principalName = a.principalName;
    out.push(g);
  }
  return out;
}
