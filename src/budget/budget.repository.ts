import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';

// The user's holds that still count: lapsed ones are ignored (and replaced by the next reservation);
// a count gone negative (a call that outlived a lapse returned its hold) reads as none.
const LIVE_HOLDS = Prisma.sql`(CASE WHEN "reservationExpiresAt" > now() THEN GREATEST("reservedTokens", 0) ELSE 0 END)`;

const ALWAYS = Prisma.sql`true`;

// The budget's SQL, on the budget columns of "User". Each change is one UPDATE with SQL
// increments, so concurrent calls never lose tokens; the `*Sql` builders are the same UPDATEs for
// a caller that runs them inside a larger statement (see BudgetChange).
@Injectable()
export class BudgetRepository {
  constructor(private readonly prisma: PrismaService) {}

  findStanding(userId: string): Promise<{ totalTokensUsed: number; tokenLimit: number; lastAiCallAt: Date | null } | null> {
    return this.prisma.user.findUnique({ where: { id: userId }, select: { totalTokensUsed: true, tokenLimit: true, lastAiCallAt: true } });
  }

  standingSql(userId: string): Prisma.Sql {
    return Prisma.sql`SELECT "totalTokensUsed" + ${LIVE_HOLDS} < "tokenLimit" AS "withinBudget" FROM "User" WHERE "id" = ${userId}::uuid`;
  }

  // False: refused (or no such user).
  async reserve(userId: string, tokens: number, ttlMs: number): Promise<boolean> {
    return (await this.prisma.$executeRaw(this.reserveSql(userId, tokens, ttlMs))) === 1;
  }

  // Adds a hold of `tokens` unless the usage plus the live holds already reach the limit. Concurrent
  // calls queue on the row lock and each re-reads the row it waited for, so every call sees the
  // holds of those admitted before it.
  reserveSql(userId: string, tokens: number, ttlMs: number, onlyIf: Prisma.Sql = ALWAYS): Prisma.Sql {
    return Prisma.sql`
      UPDATE "User"
      SET "reservedTokens" = ${LIVE_HOLDS} + ${tokens}::int,
          "reservationExpiresAt" = now() + ${ttlMs}::int * interval '1 millisecond'
      WHERE "id" = ${userId}::uuid AND "totalTokensUsed" + ${LIVE_HOLDS} < "tokenLimit" AND ${onlyIf}
      RETURNING 1`;
  }

  async settle(userId: string, settlement: { tokens: number | null; heldTokens: number }): Promise<void> {
    await this.prisma.$executeRaw(this.settleSql(userId, settlement));
  }

  // Counts the call's tokens (none when null) and returns its hold.
  settleSql(userId: string, { tokens, heldTokens }: { tokens: number | null; heldTokens: number }, onlyIf: Prisma.Sql = ALWAYS): Prisma.Sql {
    return Prisma.sql`
      UPDATE "User"
      SET "reservedTokens" = "reservedTokens" - ${heldTokens}::int,
          "totalTokensUsed" = "totalTokensUsed" + ${tokens ?? 0}::int,
          "lastAiCallAt" = CASE WHEN ${tokens !== null}::boolean THEN now() ELSE "lastAiCallAt" END,
          "updatedAt" = now()
      WHERE "id" = ${userId}::uuid AND ${onlyIf}
      RETURNING 1`;
  }
}
