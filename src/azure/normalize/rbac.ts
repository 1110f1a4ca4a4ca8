/**
 * Role assignments and role definitions, as ARM returns them (`properties.*`, see reference
 * …/Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_ListForScope.json,
 * GetRoleDefinitionById.json and the recorded cloud-custodian AccessControlTest cassettes) and
 * as `az role assignment list` / `az role definition list` print them (the same fields, flattened).
 */
import type { Origin, Permission, RoleAssignment, RoleDefinition } from "../../model/records.js";
import { isObj, type Json, lastSegment, str, strArray, stripUndefined } from "./util.js";

const ASSIGNMENT_TYPE = "microsoft.authorization/roleassignments";
const DEFINITION_TYPE = "microsoft.authorization/roledefinitions";

function body(o: Json): Json {
  return isObj(o.properties) ? { ...o, ...o.properties } : o;
}

export function isRoleAssignment(o: Json): boolean {
  const t = str(o.type)?.toLowerCase();
  if (t === ASSIGNMENT_TYPE) return true;
  const b = body(o);
  return (
    t === undefined &&
    typeof b.principalId === "string" &&
    typeof b.roleDefinitionId === "string" &&
    typeof b.scope === "string"
  );
}

export function isRoleDefinition(o: Json): boolean {
  const t = str(o.type)?.toLowerCase();
  if (t === DEFINITION_TYPE) return true;
  const b = body(o);
  return typeof b.roleName === "string" && Array.isArray(b.permissions);
}

export function toRoleAssignment(o: Json, origin: Origin): RoleAssignment | undefined {
  const b = body(o);
  const id = str(o.id);
  const scope = str(b.scope);
  const principalId = str(b.principalId);
  const roleDefinitionId = str(b.roleDefinitionId);
  if (!id || !scope || !principalId || !roleDefinitionId) return undefined;
  const r: RoleAssignment = {
    kind: "roleAssignment",
    id,
    name: str(o.name),
    scope,
    principalId,
    principalType: str(b.principalType),
    principalName: str(b.principalName),
    roleDefinitionId,
    roleDefinitionGuid: lastSegment(roleDefinitionId),
    roleDefinitionName: str(b.roleDefinitionName),
    createdOn: str(b.createdOn),
    createdBy: str(b.createdBy),
    condition: str(b.condition),
    origin,
    raw: o,
  };
  return Object.freeze(stripUndefined(r));
}

export function toRoleDefinition(o: Json, origin: Origin): RoleDefinition | undefined {
  const b = body(o);
  const id = str(o.id);
  const roleName = str(b.roleName);
  if (!id || !roleName) return undefined;
  const permissions: Permission[] = [];
  if (Array.isArray(b.permissions)) {
    for (const p of b.permissions) {
      if (!isObj(p)) continue;
      permissions.push({
        actions: strArray(p.actions),
        notActions: strArray(p.notActions),
        dataActions: strArray(p.dataActions),
        notDataActions: strArray(p.notDataActions),
      });
    }
  }
  const r: RoleDefinition = {
    kind: "roleDefinition",
    id,
    guid: (str(o.name) ?? lastSegment(id)).toLowerCase(),
    roleName,
    // ARM calls it `type` inside properties (BuiltInRole/CustomRole); az prints `roleType`.
    roleType: str(b.roleType) ?? (isObj(o.properties) ? str(o.properties.type) : undefined),
    description: str(b.description),
    assignableScopes: strArray(b.assignableScopes),
    permissions,
    origin,
    raw: o,
  };
  return Object.freeze(stripUndefined(r));
}
