import { Injectable } from '@nestjs/common';
import { Prisma, type Conversation, type Message } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export interface ConversationFields {
  title: string | null;
  systemPrompt: string | null;
  pinned?: boolean;
  archived?: boolean;
}
// A message with the ids of its parent's children (itself included, oldest first).
export type MessageInBranch = Message & { siblingIds: string[] };
export type BranchResult = { outcome: 'found'; messages: MessageInBranch[] } | { outcome: 'conversation-not-found' | 'leaf-not-found' };
// Text search's configuration: English stemming ("indexes" finds "index"), its stop words ignored.
// The GIN indexes of the migration are built with it, so it is part of the schema.
const SEARCH_CONFIG = Prisma.sql`'english'::regconfig`;
const CONVERSATION_COLUMNS = Prisma.sql`c."id", c."userId", c."title", c."systemPrompt", c."messageCount", c."totalTokens", c."totalCostUsd", c."pinned", c."archived", c."createdAt", c."updatedAt"`;
const MESSAGE_COLUMNS = [
  'id',
  'conversationId',
  'parentId',
  'role',
  'content',
  'promptTokens',
  'completionTokens',
  'contentTokens',
  'tokens',
  'costUsd',
  'tokensEstimated',
  'model',
  'status',
  'idempotencyKey',
  'flagged',
  'categories',
  'citations',
  'createdAt',
];
const PATH_COLUMNS = Prisma.raw(MESSAGE_COLUMNS.map((column) => `m."${column}"`).join(', '));
const BRANCH_OUTPUT = Prisma.raw(
  MESSAGE_COLUMNS.map((column) => (column === 'role' || column === 'status' ? `p."${column}"::text AS "${column}"` : `p."${column}"`)).join(', '),
);
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

  async hasMessage(conversationId: string, messageId: string): Promise<boolean> {
    return (await this.prisma.message.count({ where: { id: messageId, conversationId } })) > 0;
  }

  async existsForUser(id: string, userId: string): Promise<boolean> {
    return (await this.prisma.conversation.count({ where: { id, userId } })) > 0;
  }

  findForUser(id: string, userId: string): Promise<Conversation | null> {
    return this.prisma.conversation.findFirst({ where: { id, userId } });
  }

  // Every message of the tree, oldest first.
  findWithMessagesForUser(id: string, userId: string): Promise<ConversationWithMessages | null> {
    return this.prisma.conversation.findFirst({
      where: { id, userId },
      include: { messages: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    });
  }

  // The branch that ends at `leafId` (default: the newest message), first message first, each with
  // its siblings. One statement: a recursive walk up the parent links from the leaf (an index
  // lookup by id per message), then each message's siblings from the (parentId, createdAt) index.
  async findBranchForUser(id: string, userId: string, leafId: string | null): Promise<BranchResult> {
    const leaf =
      leafId === null
        ? Prisma.sql`SELECT m."id" FROM "Message" m, c WHERE m."conversationId" = c."id" ORDER BY m."createdAt" DESC, m."id" DESC LIMIT 1`
        : Prisma.sql`SELECT m."id" FROM "Message" m, c WHERE m."id" = ${leafId}::uuid AND m."conversationId" = c."id"`;
    const rows = await this.prisma.queryPrepared<(MessageInBranch & { conversationFound: boolean }) | { conversationFound: boolean; id: null }>(Prisma.sql`
      WITH RECURSIVE
      c AS (SELECT "id" FROM "Conversation" WHERE "id" = ${id}::uuid AND "userId" = ${userId}::uuid),
      leaf AS (${leaf}),
      path AS (
        SELECT ${PATH_COLUMNS}, 0 AS "depth" FROM "Message" m JOIN leaf ON m."id" = leaf."id"
        UNION ALL
        SELECT ${PATH_COLUMNS}, path."depth" + 1 FROM "Message" m JOIN path ON m."id" = path."parentId"
      )
      SELECT EXISTS (SELECT 1 FROM c) AS "conversationFound", ${BRANCH_OUTPUT},
             COALESCE(
               (SELECT array_agg(s."id" ORDER BY s."createdAt", s."id") FROM "Message" s WHERE s."parentId" = p."parentId"),
               (SELECT array_agg(s."id" ORDER BY s."createdAt", s."id") FROM "Message" s WHERE s."conversationId" = p."conversationId" AND s."parentId" IS NULL)
             )::text[] AS "siblingIds"
      FROM (SELECT 1) AS one LEFT JOIN path p ON true
      ORDER BY p."depth" DESC`);
    if (!rows[0].conversationFound) return { outcome: 'conversation-not-found' };
    if (rows[0].id === null) return leafId === null ? { outcome: 'found', messages: [] } : { outcome: 'leaf-not-found' };
    return { outcome: 'found', messages: rows.map(({ conversationFound: _found, ...message }) => message as MessageInBranch) };
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
  // messages' stored vectors and the titles; only the user's own conversations are ever joined.
  async searchPageForUser(userId: string, q: string, archived: boolean, skip: number, take: number): Promise<ConversationPage> {
    const rows = await this.prisma.queryPrepared<Conversation & { total: number }>(Prisma.sql`
      WITH query AS (SELECT websearch_to_tsquery(${SEARCH_CONFIG}, ${q}::text) AS "q"),
      mine AS (SELECT "id" FROM "Conversation" WHERE "userId" = ${userId}::uuid AND "archived" = ${archived}::boolean),
      hits AS (
        SELECT m."conversationId" AS "id", max(ts_rank(m."searchVector", query."q")) AS "rank"
        FROM "Message" m, query
        WHERE m."searchVector" @@ query."q" AND m."conversationId" IN (SELECT "id" FROM mine)
        GROUP BY m."conversationId"
        UNION ALL
        SELECT c."id", 2 * ts_rank(to_tsvector(${SEARCH_CONFIG}, coalesce(c."title", '')), query."q")
        FROM "Conversation" c, query
        WHERE c."userId" = ${userId}::uuid AND c."archived" = ${archived}::boolean AND to_tsvector(${SEARCH_CONFIG}, coalesce(c."title", '')) @@ query."q"
      ),
      ranked AS (SELECT "id", sum("rank") AS "rank" FROM hits GROUP BY "id")
      SELECT t."total", p.*
      FROM (SELECT count(*)::int AS "total" FROM ranked) t
      LEFT JOIN LATERAL (
        SELECT ${CONVERSATION_COLUMNS}
        FROM ranked r JOIN "Conversation" c ON c."id" = r."id"
        ORDER BY r."rank" DESC, c."pinned" DESC, c."updatedAt" DESC, c."id" DESC
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
