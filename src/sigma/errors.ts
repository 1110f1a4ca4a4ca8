/** A rule that cannot be loaded: the file, the line when known, and what is wrong. */
export class RuleError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ""}: ${problem}`);
  }
}

/** A problem inside a detection, at a path in the YAML (mapped to a line by the parser). */
export class DetectionError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[],
  ) {
    super(message);
  }
}
