import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../../common/errors/app-error';
import { Prisma, type Conversation, type Message, type MessageStatus, type Role } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';
import { NOW_UTC } from '../../users/users.repository';

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

  // A new conversation and its first message: one SQL statement, so one implicit transaction.
  async createWithMessage(userId: string, title: string | null, message: NewMessage): Promise<Message> {
    const [row] = await this.prisma.$queryRaw<Message[]>`
      WITH c AS (
        INSERT INTO "Conversation" ("id", "userId", "title", "messageCount", "totalTokens", "createdAt", "updatedAt")
        VALUES (gen_random_uuid(), ${userId}::uuid, ${title}, 1, ${message.tokens ?? 0}::int, ${NOW_UTC}, ${NOW_UTC})
        RETURNING "id"
      )
      ${insertMessageFrom(message)}`;
    return row;
  }

  // Appends a message and keeps the conversation's counters in step. One statement (a CTE) instead
  // of an interactive transaction: same atomicity, one round trip instead of four or five.
  // `alsoRun` is a further UPDATE that must commit with it (settling the user's token usage); it
  // only runs when the conversation still exists.
  async appendMessage(conversationId: string, message: NewMessage, alsoRun?: (conversationExists: Prisma.Sql) => Prisma.Sql): Promise<Message> {
    const conversationExists = Prisma.sql`EXISTS (SELECT 1 FROM c)`;
    const [row] = await this.prisma.$queryRaw<Message[]>`
      WITH c AS (
        UPDATE "Conversation"
        SET "messageCount" = "messageCount" + 1, "totalTokens" = "totalTokens" + ${message.tokens ?? 0}::int, "updatedAt" = ${NOW_UTC}
        WHERE "id" = ${conversationId}::uuid
        RETURNING "id"
      )${alsoRun ? Prisma.sql`, also AS (${alsoRun(conversationExists)} RETURNING 1)` : Prisma.empty}
      ${insertMessageFrom(message)}`;
    if (!row) throw new NotFoundError('Conversation');
    return row;
  }
}

// Inserts `message` into the conversation returned by the CTE `c`, returning it as Prisma would.
function insertMessageFrom(message: NewMessage): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "Message" ("id", "conversationId", "role", "content", "tokens", "tokensEstimated", "model", "status", "idempotencyKey", "createdAt")
    SELECT gen_random_uuid(), c."id", ${message.role}::"Role", ${message.content}, ${message.tokens ?? null}::int,
           ${message.tokensEstimated ?? false}, ${message.model ?? null}, ${message.status ?? 'complete'}::"MessageStatus",
           ${message.idempotencyKey ?? null}, ${NOW_UTC}
    FROM c
    RETURNING "id", "conversationId", "role"::text AS "role", "content", "tokens", "tokensEstimated", "model",
              "status"::text AS "status", "idempotencyKey", "createdAt"`;
}
