import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { DailyUsageRow, DayRange, UsageGrouping, UsageGroupRow, UsageSums } from './usage-analytics.types';

const SUMS = Prisma.sql`sum("requests")::int AS "requests", sum("promptTokens")::int AS "promptTokens", sum("completionTokens")::int AS "completionTokens",
  sum("totalTokens")::int AS "totalTokens", sum("costUsd") AS "costUsd"`;

// Reads of the daily usage rollup (UsageDaily), which BudgetRepository's settle keeps current.
// Sums are cast to int: a sum over a range fits as long as the users' lifetime counters do.
@Injectable()
export class UsageAnalyticsRepository {
  constructor(private readonly prisma: PrismaService) {}

  dailyForUser(userId: string, { from, to }: DayRange): Promise<DailyUsageRow[]> {
    return this.prisma.$queryRaw<DailyUsageRow[]>(Prisma.sql`
      SELECT to_char("day", 'YYYY-MM-DD') AS "date", "model", "requests", "promptTokens", "completionTokens", "totalTokens", "costUsd"
      FROM "UsageDaily" WHERE "userId" = ${userId}::uuid AND "day" BETWEEN ${from}::date AND ${to}::date
      ORDER BY "day", "model"`);
  }

  async totals({ from, to }: DayRange): Promise<UsageSums> {
    const [row] = await this.prisma.$queryRaw<UsageSums[]>(Prisma.sql`
      SELECT COALESCE(sum("requests"), 0)::int AS "requests", COALESCE(sum("promptTokens"), 0)::int AS "promptTokens",
             COALESCE(sum("completionTokens"), 0)::int AS "completionTokens", COALESCE(sum("totalTokens"), 0)::int AS "totalTokens", sum("costUsd") AS "costUsd"
      FROM "UsageDaily" WHERE "day" BETWEEN ${from}::date AND ${to}::date`);
    const { requests, promptTokens, completionTokens, totalTokens, costUsd } = row;
    return { requests, promptTokens, completionTokens, totalTokens, costUsd };
  }

  // Biggest first for users (the top users); in date or model order otherwise.
  grouped({ from, to }: DayRange, groupBy: UsageGrouping, limit: number): Promise<UsageGroupRow[]> {
    const range = Prisma.sql`"day" BETWEEN ${from}::date AND ${to}::date`;
    if (groupBy === 'day') {
      return this.prisma.$queryRaw<UsageGroupRow[]>(Prisma.sql`
        SELECT to_char("day", 'YYYY-MM-DD') AS "date", ${SUMS} FROM "UsageDaily" WHERE ${range} GROUP BY "day" ORDER BY "day" LIMIT ${limit}`);
    }
    if (groupBy === 'model') {
      return this.prisma.$queryRaw<UsageGroupRow[]>(Prisma.sql`
        SELECT "model", ${SUMS} FROM "UsageDaily" WHERE ${range} GROUP BY "model" ORDER BY "model" LIMIT ${limit}`);
    }
    // Aggregated first, then joined: only the top rows look up their e-mail.
    return this.prisma.$queryRaw<UsageGroupRow[]>(Prisma.sql`
      SELECT g."userId"::text AS "userId", u."email", g."requests", g."promptTokens", g."completionTokens", g."totalTokens", g."costUsd"
      FROM (
        SELECT "userId", ${SUMS} FROM "UsageDaily" WHERE ${range} GROUP BY "userId" ORDER BY sum("totalTokens") DESC, "userId" LIMIT ${limit}
      ) g JOIN "User" u ON u."id" = g."userId"
      ORDER BY g."totalTokens" DESC, g."userId"`);
  }
}
