/**
 * Which roles can execute code. A role can execute when its actions (wildcards expanded,
 * notActions removed) cover one of the granting operations of the execution catalogue
 * (execution-operations.ts). Built-in roles come from
 * data/builtin-role-definitions.json (real definitions; built-in ids are the same in every
 * tenant); custom roles and newer built-ins from role definitions in the scanned input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Permission, RoleDefinition } from "../../model/records.js";
import { PACKAGE_ROOT } from "../../paths.js";
import { GRANTING_OPERATIONS } from "./execution-operations.js";

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
    for (const op of GRANTING_OPERATIONS) {
      if (allow.some((m) => m(op)) && !deny.some((m) => m(op))) out.add(op);
    }
  }
  return [...out];
}

/** Role assignment writes: a role holding it can grant itself (or anyone) any execution-capable role. */
const ASSIGN_ROLES = "microsoft.authorization/roleassignments/write";

export interface RoleInfo {
  guid: string;
  roleName: string;
  /** Execution operations it allows (lower case). */
  operations: string[];
  canAssignRoles: boolean;
}

function allows(permissions: readonly Permission[], op: string): boolean {
  return permissions.some(
    (p) => p.actions.some((a) => actionMatcher(a)(op)) && !p.notActions.some((a) => actionMatcher(a)(op)),
  );
}

function roleInfo(guid: string, roleName: string, permissions: readonly Permission[]): RoleInfo {
  return {
    guid,
    roleName,
    operations: executionOperations(permissions),
    canAssignRoles: allows(permissions, ASSIGN_ROLES),
  };
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
      file.roles.map((r) => [r.name.toLowerCase(), roleInfo(r.name.toLowerCase(), r.roleName, r.permissions)]),
    );
  }
  return builtins;
}

/** Role lookups for one scan: built-ins plus the definitions read so far. */
export class RoleCatalog {
  private custom = new Map<string, RoleInfo>();

  add(def: RoleDefinition): void {
    this.custom.set(def.guid, roleInfo(def.guid, def.roleName, def.permissions));
  }

  /** By role definition id or GUID. */
  get(roleDefinitionId: string): RoleInfo | undefined {
    const guid = roleDefinitionId.slice(roleDefinitionId.lastIndexOf("/") + 1).toLowerCase();
    return this.custom.get(guid) ?? builtinRoles().get(guid);
  }

  canExecute(roleDefinitionId: string): boolean {
    return (this.get(roleDefinitionId)?.operations.length ?? 0) > 0;
  }

  canAssignRoles(roleDefinitionId: string): boolean {
    return this.get(roleDefinitionId)?.canAssignRoles ?? false;
  }
}
