import { Injectable } from '@nestjs/common';
import { Prisma, type Conversation } from '../../generated/prisma/client';
import type { StoredMessage, TreeNode } from './message-tree';
import { PrismaService } from '../../prisma/prisma.service';

export interface ConversationFields {
  title: string | null;
  systemPrompt: string | null;
  pinned?: boolean;
  archived?: boolean;
}
// Text search's configuration: English stemming ("indexes" finds "index"), its stop words ignored.
// The GIN indexes of the migration are built with it, so it is part of the schema.
const SEARCH_CONFIG = Prisma.sql`'english'::regconfig`;
const CONVERSATION_FIELDS = ['id', 'userId', 'title', 'systemPrompt', 'messageCount', 'totalTokens', 'totalCostUsd', 'pinned', 'archived', 'createdAt', 'updatedAt'];
const CONVERSATION_COLUMNS = Prisma.raw(CONVERSATION_FIELDS.map((field) => `c."${field}"`).join(', '));
const HIT_COLUMNS = Prisma.raw(CONVERSATION_FIELDS.map((field) => `"${field}"`).join(', '));
// The columns a conversation read shows (StoredMessage).
const MESSAGE_COLUMNS = [
  'id',
  'parentId',
  'role',
  'content',
  'promptTokens',
  'completionTokens',
  'tokens',
  'costUsd',
  'model',
  'status',
  'flagged',
  'categories',
  'citations',
  'createdAt',
];
const MESSAGE_OUTPUT = Prisma.raw(
  MESSAGE_COLUMNS.map((column) => (column === 'role' || column === 'status' ? `m."${column}"::text AS "${column}"` : `m."${column}"`)).join(', '),
);
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

  async hasMessage(conversationId: string, messageId: string): Promise<boolean> {
    return (await this.prisma.message.count({ where: { id: messageId, conversationId } })) > 0;
  }

  async existsForUser(id: string, userId: string): Promise<boolean> {
    return (await this.prisma.conversation.count({ where: { id, userId } })) > 0;
  }

  findForUser(id: string, userId: string): Promise<Conversation | null> {
    return this.prisma.conversation.findFirst({ where: { id, userId } });
  }

  // Every message of the conversation, oldest first (the tree). Null: not the user's (or gone).
  async findMessagesForUser(id: string, userId: string): Promise<StoredMessage[] | null> {
    const rows = await this.prisma.queryPrepared<StoredMessage & { conversationFound: boolean }>(Prisma.sql`
      SELECT c."id" IS NOT NULL AS "conversationFound", ${MESSAGE_OUTPUT}
      FROM (SELECT 1) AS one
      LEFT JOIN "Conversation" c ON c."id" = ${id}::uuid AND c."userId" = ${userId}::uuid
      LEFT JOIN "Message" m ON m."conversationId" = c."id"
      ORDER BY m."createdAt", m."id"`);
    if (!rows[0].conversationFound) return null;
    // The rows go on as they are (their extra column unread): no copy of a long conversation.
    return rows[0].id === null ? [] : rows;
  }

  // The shape of the conversation's tree: every message's id and parent, oldest first, from one
  // range scan of the (conversationId, createdAt) index. Null: not the user's (or gone). A branch
  // is found in it in memory (message-tree.ts), then read whole with findMessagesByIds: far less
  // than a recursive walk up a long branch (an index lookup and a step per message), or than
  // reading every message of a bushy tree whole.
  async findTreeShapeForUser(id: string, userId: string): Promise<TreeNode[] | null> {
    const rows = await this.prisma.queryPrepared<TreeNode & { conversationFound: boolean }>(Prisma.sql`
      SELECT c."id" IS NOT NULL AS "conversationFound", m."id", m."parentId"
      FROM (SELECT 1) AS one
      LEFT JOIN "Conversation" c ON c."id" = ${id}::uuid AND c."userId" = ${userId}::uuid
      LEFT JOIN "Message" m ON m."conversationId" = c."id"
      ORDER BY m."createdAt", m."id"`);
    if (!rows[0].conversationFound) return null;
    return rows[0].id === null ? [] : rows;
  }

  // The messages of `ids` (primary key lookups), in no particular order.
  findMessagesByIds(ids: string[]): Promise<StoredMessage[]> {
    return this.prisma.queryPrepared<StoredMessage>(Prisma.sql`SELECT ${MESSAGE_OUTPUT} FROM "Message" m WHERE m."id" = ANY(${ids}::uuid[])`);
  }

  // One page and the user's total in one statement: one round trip and one snapshot instead of two
  // queries. A page past the end still gets the total, on a row of nulls. The page is served by the
  // (userId, updatedAt desc) index. A prepared statement (PrismaService.queryPrepared), as the list
  // is the busiest read: planned once per connection, and no Prisma result mapping.
  // Pinned first, then by `updatedAt`, newest first; served by the (userId, archived, pinned desc,
  // updatedAt desc) index.
  async findPageForUser(userId: string, archived: boolean, skip: number, take: number): Promise<ConversationPage> {
    const rows = await this.prisma.queryPrepared<Conversation & { total: number }>(Prisma.sql`
      SELECT t."total", p.*
      FROM (SELECT count(*)::int AS "total" FROM "Conversation" WHERE "userId" = ${userId}::uuid AND "archived" = ${archived}::boolean) t
      LEFT JOIN LATERAL (
        SELECT ${CONVERSATION_COLUMNS}
        FROM "Conversation" c
        WHERE c."userId" = ${userId}::uuid AND c."archived" = ${archived}::boolean
        ORDER BY c."pinned" DESC, c."updatedAt" DESC, c."id" DESC
        LIMIT ${take}::int OFFSET ${skip}::int
      ) p ON true`);
    return { total: rows[0].total, conversations: rows[0].id === null ? [] : rows.map(withoutTotal) };
  }

  // The user's conversations whose title or messages match `q` (PostgreSQL's web search syntax),
  // best first: a conversation ranks by its best-matching message plus its title's rank counted
  // twice; ties go pinned first, then newest first. Matches come from the GIN indexes over the
  // messages' stored vectors and the titles, and only the user's own conversations are joined; the
  // matches carry their conversation's columns, so ranking and paging them reads nothing more.
  async searchPageForUser(userId: string, q: string, archived: boolean, skip: number, take: number): Promise<ConversationPage> {
    const rows = await this.prisma.queryPlannedEachTime<Conversation & { total: number }>(Prisma.sql`
      WITH query AS (SELECT websearch_to_tsquery(${SEARCH_CONFIG}, ${q}::text) AS "q"),
      hits AS (
        SELECT ${CONVERSATION_COLUMNS}, max(ts_rank(m."searchVector", query."q")) AS "rank"
        FROM "Message" m JOIN "Conversation" c ON c."id" = m."conversationId", query
        WHERE m."searchVector" @@ query."q" AND c."userId" = ${userId}::uuid AND c."archived" = ${archived}::boolean
        GROUP BY c."id"
        UNION ALL
        SELECT ${CONVERSATION_COLUMNS}, 2 * ts_rank(to_tsvector(${SEARCH_CONFIG}, coalesce(c."title", '')), query."q")
        FROM "Conversation" c, query
        WHERE c."userId" = ${userId}::uuid AND c."archived" = ${archived}::boolean AND to_tsvector(${SEARCH_CONFIG}, coalesce(c."title", '')) @@ query."q"
      ),
      ranked AS (SELECT ${HIT_COLUMNS}, sum("rank") AS "rank" FROM hits GROUP BY ${HIT_COLUMNS})
      SELECT t."total", p.*
      FROM (SELECT count(*)::int AS "total" FROM ranked) t
      LEFT JOIN LATERAL (
        SELECT ${HIT_COLUMNS} FROM ranked
        ORDER BY "rank" DESC, "pinned" DESC, "updatedAt" DESC, "id" DESC
        LIMIT ${take}::int OFFSET ${skip}::int
      ) p ON true`);
    return { total: rows[0].total, conversations: rows[0].id === null ? [] : rows.map(withoutTotal) };
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

function withoutTotal({ total: _total, ...conversation }: Conversation & { total: number }): Conversation {
  return conversation;
}
