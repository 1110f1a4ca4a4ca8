const DURATION = /^(\d+)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

/** Sigma durations (`30s`, `15m`, `24h`, `7d`, `2w`) in milliseconds. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : undefined;
}
