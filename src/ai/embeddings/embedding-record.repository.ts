import { Injectable } from '@nestjs/common';
import type { BudgetChange } from '../../budget/budget.types';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

// One row per embedding call with its tokens.
@Injectable()
export class EmbeddingRecordRepository {
  constructor(private readonly prisma: PrismaService) {}

  // Records the call and settles the budget in one statement. False: a call with this idempotency
  // key was recorded already (a retried job), so nothing was written, the settle included.
  async recordCall(
    { userId, model, tokens, idempotencyKey }: { userId: string; model: string; tokens: number; idempotencyKey?: string },
    settlement: BudgetChange,
  ): Promise<boolean> {
    const [row] = await this.prisma.queryPrepared<{ isRecorded: boolean }>(Prisma.sql`
      WITH r AS (
        INSERT INTO "EmbeddingRecord" ("id", "userId", "model", "tokens", "idempotencyKey", "createdAt")
        VALUES (gen_random_uuid(), ${userId}::uuid, ${model}::text, ${tokens}::int, ${idempotencyKey ?? null}::text, now())
        ON CONFLICT ("idempotencyKey") DO NOTHING
        RETURNING 1
      ),
      settle AS (${settlement.toSql(Prisma.sql`EXISTS (SELECT 1 FROM r)`)})
      SELECT EXISTS (SELECT 1 FROM r) AS "isRecorded"`);
    return row.isRecorded;
  }
}
