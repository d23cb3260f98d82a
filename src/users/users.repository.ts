import { Injectable } from '@nestjs/common';
import { Prisma, type User } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';

type Db = Prisma.TransactionClient | PrismaService;

// The user's holds that still count: lapsed ones are ignored (and replaced by the next reservation);
// a count gone negative (a call that outlived a lapse returned its hold) reads as none.
// Prisma keeps timestamps as UTC in "timestamp without time zone" columns.
export const NOW_UTC = Prisma.sql`(now() AT TIME ZONE 'UTC')`;

export const LIVE_HOLDS = Prisma.sql`(CASE WHEN "reservationExpiresAt" > now() THEN GREATEST("reservedTokens", 0) ELSE 0 END)`;

@Injectable()
export class UsersRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { email: string; passwordHash: string; name: string | null; tokenLimit: number }): Promise<User> {
    return this.prisma.user.create({ data });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findById(id: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }

  findBudget(id: string): Promise<{ totalTokensUsed: number; tokenLimit: number } | null> {
    return this.prisma.user.findUnique({ where: { id }, select: { totalTokensUsed: true, tokenLimit: true } });
  }

  findUsage(id: string): Promise<{ totalTokensUsed: number; lastAiCallAt: Date | null } | null> {
    return this.prisma.user.findUnique({ where: { id }, select: { totalTokensUsed: true, lastAiCallAt: true } });
  }

  // One conditional UPDATE: adds a hold of `tokens` unless the usage plus the live holds already
  // reach the limit. Concurrent calls queue on the row lock and each re-reads the row it waited for,
  // so every call sees the holds of those admitted before it. False: refused (or no such user).
  async reserveTokens(id: string, tokens: number, ttlMs: number): Promise<boolean> {
    const updated = await this.prisma.$executeRaw(this.reserveTokensSql(id, tokens, ttlMs));
    return updated === 1;
  }

  // The reserve UPDATE as a fragment, for a caller that runs it inside a larger single statement
  // (a CTE). `onlyIf` is a further SQL condition for the hold to be taken.
  reserveTokensSql(id: string, tokens: number, ttlMs: number, onlyIf: Prisma.Sql = Prisma.sql`true`): Prisma.Sql {
    return Prisma.sql`
      UPDATE "User"
      SET "reservedTokens" = ${LIVE_HOLDS} + ${tokens}::int,
          "reservationExpiresAt" = now() + ${ttlMs}::int * interval '1 millisecond'
      WHERE "id" = ${id}::uuid AND "totalTokensUsed" + ${LIVE_HOLDS} < "tokenLimit" AND ${onlyIf}`;
  }

  // The settle UPDATE as a fragment, for a caller that runs it inside a larger single statement
  // (a CTE). `onlyIf` is a SQL condition that must hold for the row to be touched.
  settleTokenUsageSql(id: string, { tokens, heldTokens }: { tokens: number | null; heldTokens: number }, onlyIf: Prisma.Sql): Prisma.Sql {
    const isCounted = tokens !== null;
    return Prisma.sql`
      UPDATE "User"
      SET "reservedTokens" = "reservedTokens" - ${heldTokens}::int,
          "totalTokensUsed" = "totalTokensUsed" + ${tokens ?? 0}::int,
          "lastAiCallAt" = CASE WHEN ${isCounted}::boolean THEN ${NOW_UTC} ELSE "lastAiCallAt" END,
          "updatedAt" = ${NOW_UTC}
      WHERE "id" = ${id}::uuid AND ${onlyIf}`;
  }

  // Counts a finished call's tokens (none for a failed one) and returns its hold, in one UPDATE
  // (x = x + n in SQL: concurrent calls never lose tokens), inside the caller's transaction.
  async settleTokenUsage(id: string, { tokens, heldTokens }: { tokens: number | null; heldTokens: number }, db: Db = this.prisma): Promise<void> {
    await db.user.update({
      where: { id },
      data: {
        reservedTokens: { decrement: heldTokens },
        ...(tokens === null ? {} : { totalTokensUsed: { increment: tokens }, lastAiCallAt: new Date() }),
      },
      select: { id: true },
    });
  }
}
