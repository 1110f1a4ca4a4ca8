/**
 * The Azure derivers and the scan-wide context they fill: payloads recovered from
 * configuration, grants (role assignment × role definition → who can execute where), the role
 * catalogue (built-in plus custom definitions read), and attribution (who wrote what, image
 * imports).
 */
import type { Deriver } from "../../derive/index.js";
import type { EngineState } from "../../engine/state.js";
import type { Grant, RoleAssignment } from "../../model/records.js";
import { RoleCatalog } from "../catalog/roles.js";
import { Attribution } from "./attribution.js";
import { ExtensionHandlers } from "./extensions.js";
import { derivePayloads } from "./payloads.js";

/** What rules and finding construction read about the whole scan. */
export interface AzureContext {
  roles: RoleCatalog;
  attribution: Attribution;
  /** Ids of configuration records read (resources, apps): whose authors findings may name. */
  configIds: Set<string>;
  /** Which handler each extension write installed, for events that do not say it. */
  extensions: ExtensionHandlers;
}

export function createContext(state: EngineState, writersLimit?: number): AzureContext {
  return {
    roles: new RoleCatalog(),
    attribution: new Attribution(state.writers(), writersLimit, state.imports()),
    configIds: new Set(),
    extensions: new ExtensionHandlers(),
  };
}

/** Grants for the execution-capable roles among assignments. */
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

const NONE: readonly never[] = [];

export function azureDerivers(ctx: AzureContext): Deriver[] {
  const assignments: RoleAssignment[] = [];
  return [
    {
      name: "context",
      accept(r) {
        if (r.kind === "activity") {
          ctx.attribution.observe(r);
          ctx.extensions.observeEvent(r);
        } else if (r.kind === "containerImage") ctx.attribution.observeImage(r);
        else if (r.kind === "roleDefinition") ctx.roles.add(r);
        else if (r.kind === "resource" || r.kind === "functionApp") {
          ctx.configIds.add(r.id.toLowerCase());
          if (r.kind === "resource") ctx.extensions.observeResource(r);
          if (r.kind === "resource" && r.typeLower === "microsoft.containerregistry/registries") {
            const loginServer = r.properties.loginServer;
            if (typeof loginServer === "string") ctx.attribution.noteLoginServer(loginServer, r.id);
          }
        }
        return NONE;
      },
    },
    { name: "payloads", accept: (r) => derivePayloads(r) },
    {
      name: "grants",
      accept(r) {
        if (r.kind === "roleAssignment") assignments.push(r);
        return NONE;
      },
      // Every role definition has been read by now, whatever the order of the input.
      finish() {
        const grants = grantsOf(assignments, ctx.roles);
        assignments.length = 0;
        return grants;
      },
    },
  ];
}
