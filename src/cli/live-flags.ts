/**
 * The live flags of `scan` and the checks that need no Azure SDK: main.ts imports this, and
 * loads live.ts (the session and the collectors, with @azure/identity and every SDK client)
 * only when a live scope is named, so a files or demo scan starts without them.
 */

export interface LiveFlags {
  subscription?: string[];
  allSubscriptions?: boolean;
  managementGroup?: string;
  auth?: string;
  cloud?: string;
  armEndpoint?: string;
  armAudience?: string;
  logsEndpoint?: string;
  since?: string;
  until?: string;
  readAppSettings?: boolean;
  maxConcurrency?: string;
  /** Compressed size up to which image layers are searched for files (bytes, or with KiB/MiB). */
  maxLayerBytes?: string;
  /** Read the Activity Log from this Log Analytics workspace (its GUID) instead of the API. */
  workspace?: string;
  /** Read the Activity Log from this Storage container (diagnostic-settings export) instead. */
  archive?: string;
}

/** The Activity Log keeps 90 days. */
export const MAX_LOOKBACK_MS = 90 * 86_400_000;
export const DEFAULT_LOOKBACK = "7d";

/** Whether an Azure subscription scope is named (the ARM collectors then run). */
export function hasScope(f: LiveFlags): boolean {
  return (f.subscription?.length ?? 0) > 0 || !!f.allSubscriptions || f.managementGroup !== undefined;
}

export function isLive(f: LiveFlags): boolean {
  return hasScope(f) || f.workspace !== undefined || f.archive !== undefined;
}
