import { AppError } from '../common/errors/app-error';
import type { DayRange } from './usage-analytics.types';

const DAY_MS = 86_400_000;
export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 366;

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);

// The inclusive range of UTC days a usage query covers: `to` defaults to today, `from` to the
// 30 days ending at `to`. The days themselves are checked by the query DTO (real calendar dates).
export function resolveDayRange(query: { from?: string; to?: string }, now = Date.now()): DayRange {
  const to = query.to ?? isoDay(now);
  const from = query.from ?? isoDay(dayMs(to) - (DEFAULT_RANGE_DAYS - 1) * DAY_MS);
  const days = (dayMs(to) - dayMs(from)) / DAY_MS + 1;
  if (days < 1) throw new AppError('VALIDATION_FAILED', 'from must not be after to');
  if (days > MAX_RANGE_DAYS) throw new AppError('VALIDATION_FAILED', `The range covers ${days} days; at most ${MAX_RANGE_DAYS} are allowed`);
  return { from, to };
}
