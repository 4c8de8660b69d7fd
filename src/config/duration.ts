// Durations as operators write them ("90s", "8m", "1h", "30d") and as the code uses them (seconds).

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration such as `45s`, `8m`, `1h` or `30d` into whole seconds.
 * Returns `undefined` for anything else (no bare numbers: a unit is always required, so
 * `HALLMARK_TOKEN_TTL=8` cannot silently mean 8 seconds).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,8})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * (UNIT_SECONDS[unit as string] ?? 0);
}
