import { Injectable } from '@nestjs/common';
import { resolveDayRange } from './day-range';
import { UsageAnalyticsRepository } from './usage-analytics.repository';
import type { DailyUsageRow, DayRange, UsageGrouping, UsageGroupRow, UsageSums } from './usage-analytics.types';

export interface DailyUsage extends DayRange {
  days: DailyUsageRow[];
}

export interface UsageOverview extends DayRange {
  groupBy: UsageGrouping;
  totals: UsageSums;
  groups: UsageGroupRow[];
}

// Usage by day and model, read from the daily rollup that every settled call keeps current.
@Injectable()
export class UsageAnalyticsService {
  constructor(private readonly rollup: UsageAnalyticsRepository) {}

  async dailyForUser(userId: string, query: { from?: string; to?: string }): Promise<DailyUsage> {
    const range = resolveDayRange(query);
    return { ...range, days: await this.rollup.dailyForUser(userId, range) };
  }

  // Over every user: the range's totals and its groups (at most `limit`).
  async overview(query: { from?: string; to?: string; groupBy: UsageGrouping; limit: number }): Promise<UsageOverview> {
    const range = resolveDayRange(query);
    const { totals, groups } = await this.rollup.grouped(range, query.groupBy, query.limit);
    return { ...range, groupBy: query.groupBy, totals, groups };
  }
}
