import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export interface TitleSource {
  title: string | null;
  question: string | null;
  answer: string | null;
}

// The title job's reads and write.
@Injectable()
export class ConversationTitlesRepository {
  constructor(private readonly prisma: PrismaService) {}

  // The conversation's title, its first question and the first answer to it. Null: not the user's (or gone).
  async findSource(conversationId: string, userId: string): Promise<TitleSource | null> {
    const [row] = await this.prisma.$queryRaw<TitleSource[]>(Prisma.sql`
      SELECT c."title", q."content" AS "question", a."content" AS "answer"
      FROM "Conversation" c
      LEFT JOIN LATERAL (
        SELECT m."id", m."content" FROM "Message" m
        WHERE m."conversationId" = c."id" AND m."role" = 'USER' ORDER BY m."createdAt", m."id" LIMIT 1
      ) q ON true
      LEFT JOIN LATERAL (
        SELECT m."content" FROM "Message" m
        WHERE m."parentId" = q."id" AND m."role" = 'ASSISTANT' AND m."status" = 'complete' ORDER BY m."createdAt", m."id" LIMIT 1
      ) a ON true
      WHERE c."id" = ${conversationId}::uuid AND c."userId" = ${userId}::uuid`);
    return row ?? null;
  }

  // Sets the title only while it is still `expected` (the user may have renamed it meanwhile).
  async replaceTitle(conversationId: string, userId: string, expected: string | null, title: string): Promise<boolean> {
    const { count } = await this.prisma.conversation.updateMany({ where: { id: conversationId, userId, title: expected }, data: { title } });
    return count === 1;
  }
}
