import { createHash } from "node:crypto";

/** Stable id from parts; ids compare case-insensitively, so callers lower-case them first. */
export function fingerprint(parts: readonly (string | undefined)[]): string {
  return createHash("sha256")
    .update(parts.map((p) => p ?? "").join("\u001f"))
    .digest("hex")
    .slice(0, 32);
}
