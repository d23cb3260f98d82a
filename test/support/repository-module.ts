import { Test } from '@nestjs/testing';
import type { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ChatTurnRepository } from '../../src/ai/chat/chat-turn.repository';
import { ConversationRepository } from '../../src/ai/conversations/conversation.repository';
import { BudgetModule } from '../../src/budget/budget.module';
import { BudgetService } from '../../src/budget/budget.service';
import { AppConfigModule } from '../../src/config/config.module';
import { validateEnv } from '../../src/config/env.schema';
import { PrismaModule } from '../../src/prisma/prisma.module';
import { PrismaService } from '../../src/prisma/prisma.service';
import { baseTestEnv } from './test-env';

export interface RepositoryTier {
  module: TestingModule;
  prisma: PrismaService;
  budget: BudgetService;
  turns: ChatTurnRepository;
  conversations: ConversationRepository;
  // A plain pg client of the same database, for holding locks the statements under test must wait on.
  side: pg.Client;
  close(): Promise<void>;
}

// The repositories on this run's migrated database, without an app around them: their SQL is
// tested on real PostgreSQL, fast, and concurrency cases can be forced with row locks.
export async function openRepositoryTier(): Promise<RepositoryTier> {
  const module = await Test.createTestingModule({
    imports: [AppConfigModule.forRoot(validateEnv(baseTestEnv())), PrismaModule, BudgetModule],
    providers: [ChatTurnRepository, ConversationRepository],
  }).compile();
  const side = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await side.connect();
  return {
    module,
    prisma: module.get(PrismaService),
    budget: module.get(BudgetService),
    turns: module.get(ChatTurnRepository),
    conversations: module.get(ConversationRepository),
    side,
    close: async () => {
      await side.end();
      await module.close();
    },
  };
}

// A user row with the given budget, inserted directly.
export async function insertUser(
  prisma: PrismaService,
  budget: { tokenLimit?: number; totalTokensUsed?: number; reservedTokens?: number; reservationExpiresAt?: Date | null } = {},
) {
  return prisma.user.create({
    data: {
      email: `${randomUUID()}@repo.test`,
      passwordHash: 'x',
      tokenLimit: budget.tokenLimit ?? 1_000_000,
      totalTokensUsed: budget.totalTokensUsed ?? 0,
      reservedTokens: budget.reservedTokens ?? 0,
      reservationExpiresAt: budget.reservationExpiresAt ?? null,
    },
  });
}
