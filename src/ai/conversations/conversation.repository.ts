import { Injectable } from '@nestjs/common';
import type { Conversation, Message, MessageStatus, Prisma, Role } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export type Db = Prisma.TransactionClient | PrismaService;

export interface NewMessage {
  role: Role;
  content: string;
  tokens?: number | null;
  tokensEstimated?: boolean;
  model?: string | null;
  status?: MessageStatus;
  idempotencyKey?: string | null;
}

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

  // The newest `limit` messages, returned oldest first; served by the (conversationId, createdAt) index.
  async findRecentMessages(conversationId: string, userId: string, limit: number): Promise<Message[]> {
    if (limit === 0) return [];
    const newestFirst = await this.prisma.message.findMany({
      where: { conversationId, conversation: { userId } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return newestFirst.reverse();
  }

  findMessageByIdempotencyKey(key: string): Promise<Message | null> {
    return this.prisma.message.findUnique({ where: { idempotencyKey: key } });
  }

  // A new conversation and its first message in one statement.
  createWithMessage(userId: string, title: string | null, message: NewMessage): Promise<ConversationWithMessages> {
    return this.prisma.conversation.create({
      data: { userId, title, messageCount: 1, messages: { create: message } },
      include: { messages: true },
    });
  }

  // Appends a message and keeps the conversation's counters in step, in one transaction.
  async appendMessage(conversationId: string, message: NewMessage, db?: Prisma.TransactionClient): Promise<Message> {
    const write = async (tx: Prisma.TransactionClient) => {
      const created = await tx.message.create({ data: { ...message, conversationId } });
      await tx.conversation.update({
        where: { id: conversationId },
        data: { messageCount: { increment: 1 }, totalTokens: { increment: message.tokens ?? 0 } },
        select: { id: true },
      });
      return created;
    };
    return db ? write(db) : this.prisma.$transaction(write);
  }
}
