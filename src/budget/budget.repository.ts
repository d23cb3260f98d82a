import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { CallUsage, Settlement, UsageByModel } from './budget.types';

// The user's holds that still count: lapsed ones are ignored (and replaced by the next reservation);
// a count gone negative (a call that outlived a lapse returned its hold) reads as none.
const LIVE_HOLDS = Prisma.sql`(CASE WHEN "reservationExpiresAt" > now() THEN GREATEST("reservedTokens", 0) ELSE 0 END)`;

const ALWAYS = Prisma.sql`true`;

// The budget's SQL: the budget columns of "User" and the usage ledger. Each change is one statement
// with SQL increments, so concurrent calls never lose tokens; the `*Ctes` builders are the same
// writes for a caller that runs them inside a larger statement (see BudgetChange).
@Injectable()
export class BudgetRepository {
  constructor(private readonly prisma: PrismaService) {}

  findStanding(userId: string) {
    return this.prisma.user.findUnique({
      where: { id: userId },
      select: { totalTokensUsed: true, tokenLimit: true, totalCostUsd: true, lastAiCallAt: true },
    });
  }

  standingSql(userId: string): Prisma.Sql {
    return Prisma.sql`SELECT "totalTokensUsed" + ${LIVE_HOLDS} < "tokenLimit" AS "withinBudget" FROM "User" WHERE "id" = ${userId}::uuid`;
  }

  // False: refused (or no such user).
  async reserve(userId: string, tokens: number, ttlMs: number): Promise<boolean> {
    const rows = await this.prisma.queryPrepared<{ held: number }>(Prisma.sql`WITH ${this.reserveCtes(userId, tokens, ttlMs)} SELECT 1 AS "held" FROM hold`);
    return rows.length === 1;
  }

  // `hold`: adds a hold of `tokens` unless the usage plus the live holds already reach the limit,
  // and returns a row when it did. Concurrent calls queue on the row lock and each re-reads the row
  // it waited for, so every call sees the holds of those admitted before it.
  reserveCtes(userId: string, tokens: number, ttlMs: number, onlyIf: Prisma.Sql = ALWAYS): Prisma.Sql {
    return Prisma.sql`hold AS (
      UPDATE "User"
      SET "reservedTokens" = ${LIVE_HOLDS} + ${tokens}::int,
          "reservationExpiresAt" = now() + ${ttlMs}::int * interval '1 millisecond'
      WHERE "id" = ${userId}::uuid AND "totalTokensUsed" + ${LIVE_HOLDS} < "tokenLimit" AND ${onlyIf}
      RETURNING 1
    )`;
  }

  // Settles one call on its own. True when its usage was recorded (and counted).
  async settle(userId: string, settlement: Settlement): Promise<boolean> {
    const recorded = settlement.usage ? Prisma.sql`EXISTS (SELECT 1 FROM budget_record)` : Prisma.sql`false`;
    const [row] = await this.prisma.queryPrepared<{ isRecorded: boolean }>(Prisma.sql`WITH ${this.settleCtes(userId, settlement)} SELECT ${recorded} AS "isRecorded"`);
    return row.isRecorded;
  }

  // `budget_record` (when there is usage): the call in the ledger, unless its idempotency key is
  // there already; `budget_daily`: its day's rollup; `budget_settle`: the hold back, and the recorded usage added to the user's totals.
  settleCtes(userId: string, { heldTokens, usage, idempotencyKey }: Settlement, onlyIf: Prisma.Sql = ALWAYS): Prisma.Sql {
    const settle = (counted: Prisma.Sql) => Prisma.sql`budget_settle AS (
      UPDATE "User"
      SET "reservedTokens" = "reservedTokens" - ${heldTokens}::int,
          "totalTokensUsed" = "totalTokensUsed" + CASE WHEN ${counted} THEN ${usage?.totalTokens ?? 0}::int ELSE 0 END,
          "totalCostUsd" = "totalCostUsd" + CASE WHEN ${counted} THEN ${usage?.costUsd ?? 0}::float8 ELSE 0 END,
          "lastAiCallAt" = CASE WHEN ${counted} THEN now() ELSE "lastAiCallAt" END,
          "updatedAt" = now()
      WHERE "id" = ${userId}::uuid AND ${onlyIf}
      RETURNING 1
    )`;
    if (!usage) return settle(Prisma.sql`false`);
    return Prisma.sql`budget_record AS (
      INSERT INTO "UsageRecord" ("id", "userId", "kind", "model", "promptTokens", "completionTokens", "tokens", "costUsd", "idempotencyKey", "createdAt")
      SELECT gen_random_uuid(), ${userId}::uuid, ${usage.kind}::text, ${usage.model}::text, ${usage.promptTokens}::int, ${usage.completionTokens}::int,
             ${usage.totalTokens}::int, ${usage.costUsd}::float8, ${idempotencyKey ?? null}::text, now()
      WHERE ${onlyIf}
      ON CONFLICT ("idempotencyKey") DO NOTHING
      RETURNING 1
    ),
    ${this.rollupCte(userId, usage)},
    ${settle(Prisma.sql`EXISTS (SELECT 1 FROM budget_record)`)}`;
  }

  // `budget_daily`: the recorded call added to the user's row of the UTC day and model. A cost
  // stays null only while every call of that row had no price.
  private rollupCte(userId: string, usage: CallUsage): Prisma.Sql {
    return Prisma.sql`budget_daily AS (
      INSERT INTO "UsageDaily" AS d ("userId", "day", "model", "requests", "promptTokens", "completionTokens", "totalTokens", "costUsd")
      SELECT ${userId}::uuid, (now() AT TIME ZONE 'UTC')::date, ${usage.model}::text, 1, ${usage.promptTokens}::int, ${usage.completionTokens}::int,
             ${usage.totalTokens}::int, ${usage.costUsd}::float8
      FROM budget_record
      ON CONFLICT ("userId", "day", "model") DO UPDATE SET
        "requests" = d."requests" + 1,
        "promptTokens" = d."promptTokens" + EXCLUDED."promptTokens",
        "completionTokens" = d."completionTokens" + EXCLUDED."completionTokens",
        "totalTokens" = d."totalTokens" + EXCLUDED."totalTokens",
        "costUsd" = CASE WHEN d."costUsd" IS NULL AND EXCLUDED."costUsd" IS NULL THEN NULL ELSE COALESCE(d."costUsd", 0) + COALESCE(EXCLUDED."costUsd", 0) END
      RETURNING 1
    )`;
  }

  // The ledger by model; a model whose calls have no price sums to a null cost.
  async usageByModel(userId: string): Promise<UsageByModel[]> {
    const rows = await this.prisma.$queryRaw<UsageByModel[]>(Prisma.sql`
      SELECT "model", count(*)::int AS "requests", sum("promptTokens")::int AS "promptTokens", sum("completionTokens")::int AS "completionTokens",
             sum("tokens")::int AS "totalTokens", sum("costUsd") AS "costUsd"
      FROM "UsageRecord" WHERE "userId" = ${userId}::uuid
      GROUP BY "model" ORDER BY "model"`);
    return rows;
  }
}
