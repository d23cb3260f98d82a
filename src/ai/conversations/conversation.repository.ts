import { Injectable } from '@nestjs/common';
import type { Conversation, Message } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export type ConversationWithMessages = Conversation & { messages: Message[] };

// Queries only. Every read of user data filters by userId, so "not mine" reads as "not found".
@Injectable()
export class ConversationRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(userId: string, title: string | null): Promise<Conversation> {
    return this.prisma.conversation.create({ data: { userId, title } });
  }

  findByIdForUser(id: string, userId: string): Promise<Conversation | null> {
    return this.prisma.conversation.findFirst({ where: { id, userId } });
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

  // Served by the (userId, updatedAt desc) index.
  findPageForUser(userId: string, skip: number, take: number): Promise<Conversation[]> {
    return this.prisma.conversation.findMany({ where: { userId }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], skip, take });
  }

  countForUser(userId: string): Promise<number> {
    return this.prisma.conversation.count({ where: { userId } });
  }

  async countMessagesForUser(userId: string): Promise<number> {
    const { _sum } = await this.prisma.conversation.aggregate({ where: { userId }, _sum: { messageCount: true } });
    return _sum.messageCount ?? 0;
  }

  async deleteForUser(id: string, userId: string): Promise<boolean> {
    const { count } = await this.prisma.conversation.deleteMany({ where: { id, userId } });
    return count === 1;
  }

  findMessageByIdempotencyKey(key: string): Promise<Message | null> {
    return this.prisma.message.findUnique({ where: { idempotencyKey: key } });
  }
}
