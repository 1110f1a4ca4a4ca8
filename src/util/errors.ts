/** A mistake in how the tool was called or configured: exit code 3, one sentence on stderr. */
export class UsageError extends Error {
  override name = "UsageError";
}
