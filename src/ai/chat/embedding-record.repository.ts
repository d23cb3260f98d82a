import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/prisma/client';

@Injectable()
export class EmbeddingRecordRepository {
  async exists(idempotencyKey: string, tx: Prisma.TransactionClient): Promise<boolean> {
    return (await tx.embeddingRecord.count({ where: { idempotencyKey } })) > 0;
  }

  async create(data: { userId: string; model: string; tokens: number; idempotencyKey?: string }, tx: Prisma.TransactionClient): Promise<void> {
    await tx.embeddingRecord.create({ data, select: { id: true } });
  }
}
