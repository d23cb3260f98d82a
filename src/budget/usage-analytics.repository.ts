import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { DailyUsageRow, DayRange, UsageGrouping, UsageGroupRow, UsageSums } from './usage-analytics.types';

// How each grouping keys, names and orders its groups (users: the biggest first, with their e-mail).
const GROUPINGS: Record<UsageGrouping, { key: Prisma.Sql; columns: Prisma.Sql; join: Prisma.Sql; order: Prisma.Sql }> = {
  day: { key: Prisma.sql`"day"`, columns: Prisma.sql`to_char(top."key", 'YYYY-MM-DD') AS "date"`, join: Prisma.sql`top`, order: Prisma.sql`top."key"` },
  model: { key: Prisma.sql`"model"`, columns: Prisma.sql`top."key" AS "model"`, join: Prisma.sql`top`, order: Prisma.sql`top."key"` },
  user: {
    key: Prisma.sql`"userId"`,
    columns: Prisma.sql`top."key"::text AS "userId", u."email"`,
    join: Prisma.sql`(top JOIN "User" u ON u."id" = top."key")`,
    order: Prisma.sql`top."totalTokens" DESC, top."key"`,
  },
};

type GroupedRow = { tRequests: number; tPromptTokens: number; tCompletionTokens: number; tTotalTokens: number; tCostUsd: number | null } & Partial<UsageGroupRow>;

// Reads of the daily usage rollup (UsageDaily), which BudgetRepository's settle keeps current.
// Sums are cast to int: a sum over a range fits as long as the users' lifetime counters do. Both
// reads run as prepared statements without Prisma's result mapping (hundreds of rows per answer).
@Injectable()
export class UsageAnalyticsRepository {
  constructor(private readonly prisma: PrismaService) {}

  dailyForUser(userId: string, { from, to }: DayRange): Promise<DailyUsageRow[]> {
    return this.prisma.queryPrepared<DailyUsageRow>(Prisma.sql`
      SELECT to_char("day", 'YYYY-MM-DD') AS "date", "model", "requests", "promptTokens", "completionTokens", "totalTokens", "costUsd"
      FROM "UsageDaily" WHERE "userId" = ${userId}::uuid AND "day" BETWEEN ${from}::date AND ${to}::date
      ORDER BY "day", "model"`);
  }

  // One scan of the range: the groups, their totals, and the first `limit` groups in order. The
  // totals ride on every row; a range without usage gives one row of totals and no group.
  async grouped({ from, to }: DayRange, groupBy: UsageGrouping, limit: number): Promise<{ totals: UsageSums; groups: UsageGroupRow[] }> {
    const { key, columns, join, order } = GROUPINGS[groupBy];
    const rows = await this.prisma.queryPrepared<GroupedRow>(Prisma.sql`
      WITH g AS (
        SELECT ${key} AS "key", sum("requests")::int AS "requests", sum("promptTokens")::int AS "promptTokens",
               sum("completionTokens")::int AS "completionTokens", sum("totalTokens")::int AS "totalTokens", sum("costUsd") AS "costUsd"
        FROM "UsageDaily" WHERE "day" BETWEEN ${from}::date AND ${to}::date GROUP BY ${key}
      ),
      t AS (
        SELECT COALESCE(sum("requests"), 0)::int AS "tRequests", COALESCE(sum("promptTokens"), 0)::int AS "tPromptTokens",
               COALESCE(sum("completionTokens"), 0)::int AS "tCompletionTokens", COALESCE(sum("totalTokens"), 0)::int AS "tTotalTokens", sum("costUsd") AS "tCostUsd"
        FROM g
      ),
      top AS (SELECT * FROM g ORDER BY ${groupBy === 'user' ? Prisma.sql`"totalTokens" DESC, "key"` : Prisma.sql`"key"`} LIMIT ${limit}::int)
      SELECT t.*, ${columns}, top."requests", top."promptTokens", top."completionTokens", top."totalTokens", top."costUsd"
      FROM t LEFT JOIN ${join} ON true
      ORDER BY ${order}`);
    const [first] = rows;
    const totals: UsageSums = {
      requests: first.tRequests,
      promptTokens: first.tPromptTokens,
      completionTokens: first.tCompletionTokens,
      totalTokens: first.tTotalTokens,
      costUsd: first.tCostUsd,
    };
    const groups = rows
      .filter((row) => row.requests !== null)
      .map(({ tRequests: _r, tPromptTokens: _p, tCompletionTokens: _c, tTotalTokens: _t, tCostUsd: _u, ...group }) => group as UsageGroupRow);
    return { totals, groups };
  }
}
