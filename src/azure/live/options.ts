/**
 * The names the CLI offers for sign-in and clouds, apart from session.ts so that building the
 * command line does not load @azure/identity and the SDK clients (a files scan never needs them).
 */
export const AUTH_MODES = ["default", "cli", "env", "managed-identity", "workload-identity"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const CLOUDS = ["public", "usgov", "china"] as const;
export type CloudName = (typeof CLOUDS)[number];
