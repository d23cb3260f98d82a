import { Injectable } from '@nestjs/common';
import { Prisma, type Conversation, type Message } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export interface ConversationFields {
  title: string | null;
  systemPrompt: string | null;
}
export type ConversationWithMessages = Conversation & { messages: Message[] };
export interface ConversationPage {
  conversations: Conversation[];
  total: number;
}

// Queries only. Every read of user data filters by userId, so "not mine" reads as "not found".
@Injectable()
export class ConversationRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(userId: string, fields: ConversationFields): Promise<Conversation> {
    return this.prisma.conversation.create({ data: { userId, ...fields } });
  }

  // Null: not the user's (or gone).
  async updateForUser(id: string, userId: string, fields: Partial<ConversationFields>): Promise<Conversation | null> {
    const [row] = await this.prisma.conversation.updateManyAndReturn({ where: { id, userId }, data: fields });
    return row ?? null;
  }

  async existsForUser(id: string, userId: string): Promise<boolean> {
    return (await this.prisma.conversation.count({ where: { id, userId } })) > 0;
  }

  findWithMessagesForUser(id: string, userId: string): Promise<ConversationWithMessages | null> {
    return this.prisma.conversation.findFirst({
      where: { id, userId },
      include: { messages: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    });
  }

  // One page and the user's total in one statement: one round trip and one snapshot instead of two
  // queries. A page past the end still gets the total, on a row of nulls. The page is served by the
  // (userId, updatedAt desc) index. A prepared statement (PrismaService.queryPrepared), as the list
  // is the busiest read: planned once per connection, and no Prisma result mapping.
  async findPageForUser(userId: string, skip: number, take: number): Promise<ConversationPage> {
    const rows = await this.prisma.queryPrepared<Conversation & { total: number }>(Prisma.sql`
      SELECT t."total", p.*
      FROM (SELECT count(*)::int AS "total" FROM "Conversation" WHERE "userId" = ${userId}::uuid) t
      LEFT JOIN LATERAL (
        SELECT "id", "userId", "title", "systemPrompt", "messageCount", "totalTokens", "totalCostUsd", "createdAt", "updatedAt"
        FROM "Conversation"
        WHERE "userId" = ${userId}::uuid
        ORDER BY "updatedAt" DESC, "id" DESC
        LIMIT ${take}::int OFFSET ${skip}::int
      ) p ON true`);
    return { total: rows[0].total, conversations: rows[0].id === null ? [] : rows };
  }

  // Both counts in one aggregate; messages from the denormalised messageCount, never Message itself.
  async countsForUser(userId: string): Promise<{ conversations: number; messages: number }> {
    const { _count, _sum } = await this.prisma.conversation.aggregate({ where: { userId }, _count: { _all: true }, _sum: { messageCount: true } });
    return { conversations: _count._all, messages: _sum.messageCount ?? 0 };
  }

  async deleteForUser(id: string, userId: string): Promise<boolean> {
    const { count } = await this.prisma.conversation.deleteMany({ where: { id, userId } });
    return count === 1;
  }
}
