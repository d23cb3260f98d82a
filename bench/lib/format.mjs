// Number formatting and target checks for the report's rows.
export const f1 = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

export function check(value, op, target) {
  if (!Number.isFinite(value)) return '❌ (no value)';
  const ok = op === '<=' ? value <= target : value >= target;
  return ok ? '✅' : '❌';
}

export const missBy = (value, target, unit = 'ms') => (value > target ? ` (over by ${f1(value - target, 2)} ${unit})` : '');
