import { AppError } from '../common/errors/app-error';
import { resolveDayRange } from './day-range';

const NOW = Date.parse('2026-03-10T23:59:00Z');

describe(resolveDayRange.name, () => {
  it('defaults to the 30 UTC days ending today', () => {
    expect(resolveDayRange({}, NOW)).toEqual({ from: '2026-02-09', to: '2026-03-10' });
  });

  it('counts 30 days back from a given end', () => {
    // 2024 is a leap year: February has 29 days.
    expect(resolveDayRange({ to: '2024-03-01' }, NOW)).toEqual({ from: '2024-02-01', to: '2024-03-01' });
  });

  it('keeps a given start with today as the end', () => {
    expect(resolveDayRange({ from: '2026-01-01' }, NOW)).toEqual({ from: '2026-01-01', to: '2026-03-10' });
  });

  it('accepts one day and exactly 366 days', () => {
    expect(resolveDayRange({ from: '2026-03-10', to: '2026-03-10' }, NOW)).toEqual({ from: '2026-03-10', to: '2026-03-10' });
    expect(resolveDayRange({ from: '2024-01-01', to: '2024-12-31' }, NOW)).toEqual({ from: '2024-01-01', to: '2024-12-31' });
  });

  it('refuses 367 days and a start after the end', () => {
    expect(() => resolveDayRange({ from: '2023-01-01', to: '2024-01-02' }, NOW)).toThrow(AppError);
    expect(() => resolveDayRange({ from: '2026-03-11', to: '2026-03-10' }, NOW)).toThrow('from must not be after to');
  });
});
