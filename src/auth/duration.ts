const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

// '15m' → 900000. Bare numbers are seconds, as in jsonwebtoken's `expiresIn`.
export function durationToMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  if (!match) throw new Error(`invalid duration: ${value}`);
  return Number(match[1]) * UNIT_MS[(match[2] as keyof typeof UNIT_MS) ?? 's'];
}
