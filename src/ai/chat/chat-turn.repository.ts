import { Injectable } from '@nestjs/common';
import type { BudgetChange, BudgetStanding } from '../../budget/budget.types';
import { Prisma, type Message, type Role } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';
import { NewMessage, TurnAnchor, TurnContext } from './chat-turn.types';

export type OpenTurnResult =
  | { outcome: 'opened'; userMessage: Message }
  | { outcome: 'over-budget' | 'conversation-not-found' }
  // The hold was taken but the conversation went meanwhile: nothing stored, the caller returns the hold.
  | { outcome: 'conversation-gone' };

type TurnContextRow = { withinBudget: boolean; conversationFound: boolean; systemPrompt: string | null; anchorId: string | null; anchorRole: Role | null } & {
  [K in keyof Message]?: Message[K] | null;
};

// The columns the prompt reads of each message on the path; a regenerated answer's question (the
// turn's user message) is read whole. Fewer columns: about half the CPU to parse 50 rows.
const HISTORY_COLUMNS = ['id', 'role', 'content', 'contentTokens', 'status'] as const;
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
] as const;
const pathColumns = (columns: readonly string[]) => Prisma.raw(columns.map((column) => `m."${column}"`).join(', '));
const pathOutput = (columns: readonly string[]) =>
  Prisma.raw(columns.map((column) => (column === 'role' || column === 'status' ? `h."${column}"::text AS "${column}"` : `h."${column}"`)).join(', '));
const PATH_SQL = {
  history: { columns: pathColumns(HISTORY_COLUMNS), output: pathOutput(HISTORY_COLUMNS) },
  whole: { columns: pathColumns(MESSAGE_COLUMNS), output: pathOutput(MESSAGE_COLUMNS) },
};
type OpenTurnRow = { held: boolean; conversationFound: boolean } & { [K in keyof Message]: Message[K] | null };

// The statements of a chat turn: one read before the model is called, one write beside the model
// call and one after it. Each is a single SQL statement (data-modifying CTEs, the budget's part
// embedded), so each is atomic on its own and costs one round trip. They run as prepared statements
// (PrismaService.queryPrepared) because every turn runs them.
@Injectable()
export class ChatTurnRepository {
  constructor(private readonly prisma: PrismaService) {}

  // The budget check, the ownership check and the history: the path through the message tree that
  // ends at the anchor, its last `historyLimit` messages (plus the anchor's own question when it
  // regenerates an answer), oldest first. One recursive statement, each step an index lookup by id.
  // The anchor: `parentMessageId` when given, the answer to regenerate, or else the conversation's
  // newest message. Null: the user no longer exists.
  async findTurnContext(
    conversationId: string | null,
    userId: string,
    historyLimit: number,
    standing: BudgetStanding,
    anchor: TurnAnchor = { kind: 'newest' },
  ): Promise<TurnContext | null> {
    // The path starts at the message the new one will follow: the anchor itself, or for a
    // regenerated answer its question (the answer's parent).
    const start =
      anchor.kind === 'newest'
        ? // LATERAL: the limit applies inside, where the newest is one step back in the
          // (conversationId, createdAt, id) index; over a join with `c` PostgreSQL sorted every message.
          Prisma.sql`SELECT m."id", NULL::"Role" AS "role", NULL::uuid AS "parentId"
                     FROM c, LATERAL (SELECT m."id" FROM "Message" m WHERE m."conversationId" = c."id" ORDER BY m."createdAt" DESC, m."id" DESC LIMIT 1) m`
        : Prisma.sql`SELECT m."id", m."role", m."parentId" FROM "Message" m, c WHERE m."id" = ${anchor.messageId}::uuid AND m."conversationId" = c."id"`;
    const startId = anchor.kind === 'regenerate' ? Prisma.sql`a."parentId"` : Prisma.sql`a."id"`;
    const depth = anchor.kind === 'regenerate' ? historyLimit + 1 : historyLimit;
    const { columns, output } = anchor.kind === 'regenerate' ? PATH_SQL.whole : PATH_SQL.history;
    const rows = await this.prisma.queryPrepared<TurnContextRow>(Prisma.sql`
      WITH RECURSIVE
      c AS (SELECT "id", "systemPrompt" FROM "Conversation" WHERE "id" = ${conversationId}::uuid AND "userId" = ${userId}::uuid),
      a AS (${start}),
      path AS (
        SELECT ${columns}, m."parentId" AS "pathParentId", 1 AS "depth" FROM "Message" m JOIN a ON m."id" = ${startId} WHERE ${depth}::int >= 1
        UNION ALL
        SELECT ${columns}, m."parentId", path."depth" + 1 FROM "Message" m JOIN path ON m."id" = path."pathParentId" WHERE path."depth" < ${depth}::int
      )
      SELECT b."withinBudget", c."id" IS NOT NULL AS "conversationFound", c."systemPrompt",
             a."id" AS "anchorId", a."role"::text AS "anchorRole",
             ${output}
      FROM (${standing.toSql()}) b
      LEFT JOIN c ON true
      LEFT JOIN a ON true
      LEFT JOIN path h ON true
      ORDER BY h."depth" DESC`);
    if (rows.length === 0) return null;
    const path = rows
      .filter((row): row is TurnContextRow & Message => row.id !== null)
      .map(({ withinBudget: _w, conversationFound: _c, systemPrompt: _s, anchorId: _a, anchorRole: _r, ...message }) => message);
    const [{ withinBudget, conversationFound, systemPrompt, anchorId, anchorRole }] = rows;
    const context: TurnContext = { withinBudget, conversationFound, systemPrompt, anchor: anchorId === null ? null : { id: anchorId, role: anchorRole }, history: path };
    if (anchor.kind === 'regenerate') context.regeneratedQuestion = path.at(-1) ?? null;
    return context;
  }

  // Takes the hold and stores the user message (in a new conversation when `conversationId` is
  // null), in one statement: the hold is taken only if the conversation is the user's, and the
  // message stored only if the hold was taken.
  async openTurn({
    userId,
    conversationId,
    newConversationTitle,
    message,
    hold,
  }: {
    userId: string;
    conversationId: string | null;
    newConversationTitle: string | null;
    message: NewMessage;
    hold: BudgetChange;
  }): Promise<OpenTurnResult> {
    const ownsConversation =
      conversationId === null ? Prisma.sql`true` : Prisma.sql`EXISTS (SELECT 1 FROM "Conversation" WHERE "id" = ${conversationId}::uuid AND "userId" = ${userId}::uuid)`;
    const conversation =
      conversationId === null
        ? Prisma.sql`
          INSERT INTO "Conversation" ("id", "userId", "title", "messageCount", "totalTokens", "createdAt", "updatedAt")
          SELECT gen_random_uuid(), ${userId}::uuid, ${newConversationTitle}::text, 1, 0, now(), now()
          FROM hold
          RETURNING "id"`
        : Prisma.sql`
          UPDATE "Conversation"
          SET "messageCount" = "messageCount" + 1, "updatedAt" = now()
          WHERE "id" = ${conversationId}::uuid AND "userId" = ${userId}::uuid AND EXISTS (SELECT 1 FROM hold)
          RETURNING "id"`;
    const [row] = await this.prisma.queryPrepared<OpenTurnRow>(Prisma.sql`
      WITH ${hold.toCtes(ownsConversation)},
      c AS (${conversation}),
      m AS (${insertMessageFrom(message)})
      SELECT EXISTS (SELECT 1 FROM hold) AS "held", ${ownsConversation} AS "conversationFound", m.*
      FROM (SELECT 1) AS one LEFT JOIN m ON true`);
    if (row.id !== null) return { outcome: 'opened', userMessage: toMessage(row) };
    if (row.held) return { outcome: 'conversation-gone' };
    return { outcome: row.conversationFound ? 'over-budget' : 'conversation-not-found' };
  }

  // Stores the answer, bumps the conversation's counters and settles the budget, in one statement.
  // Null: the conversation is gone (deleted meanwhile) and nothing was written, the settle included.
  async closeTurn({ conversationId, answer, settlement }: { conversationId: string; answer: NewMessage; settlement: BudgetChange }): Promise<Message | null> {
    const [row] = await this.prisma.queryPrepared<Message>(Prisma.sql`
      WITH c AS (
        UPDATE "Conversation"
        SET "messageCount" = "messageCount" + 1, "totalTokens" = "totalTokens" + ${answer.tokens ?? 0}::int,
            "totalCostUsd" = "totalCostUsd" + ${answer.costUsd ?? 0}::float8, "updatedAt" = now()
        WHERE "id" = ${conversationId}::uuid
        RETURNING "id"
      ),
      ${settlement.toCtes(Prisma.sql`EXISTS (SELECT 1 FROM c)`)}
      ${insertMessageFrom(answer)}`);
    return row ?? null;
  }

  // A job attempt's own message (its idempotency key), stored by an earlier attempt of the same job.
  findMessageByIdempotencyKey(key: string): Promise<Message | null> {
    return this.prisma.message.findUnique({ where: { idempotencyKey: key } });
  }
}

// Inserts `message` into the conversation returned by the CTE `c`, returning it as Prisma would.
function insertMessageFrom(message: NewMessage): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "Message" ("id", "conversationId", "parentId", "role", "content", "promptTokens", "completionTokens", "contentTokens", "tokens", "costUsd", "tokensEstimated", "model",
                           "status", "idempotencyKey", "flagged", "categories", "citations", "createdAt")
    SELECT gen_random_uuid(), c."id", ${message.parentId ?? null}::uuid, ${message.role}::"Role", ${message.content}::text, ${message.promptTokens ?? null}::int,
           ${message.completionTokens ?? null}::int, ${message.contentTokens ?? null}::int, ${message.tokens ?? null}::int, ${message.costUsd ?? null}::float8,
           ${message.tokensEstimated ?? false}::boolean, ${message.model ?? null}::text, ${message.status ?? 'complete'}::"MessageStatus",
           ${message.idempotencyKey ?? null}::text, ${message.flagged ?? false}::boolean, ${message.categories ?? []}::text[],
           ${message.citations ? JSON.stringify(message.citations) : null}::jsonb, now()
    FROM c
    RETURNING "id", "conversationId", "parentId", "role"::text AS "role", "content", "promptTokens", "completionTokens", "contentTokens", "tokens", "costUsd", "tokensEstimated",
              "model", "status"::text AS "status", "idempotencyKey", "flagged", "categories", "citations", "createdAt"`;
}

function toMessage(row: OpenTurnRow): Message {
  const { held: _held, conversationFound: _found, ...message } = row;
  return message as Message;
}
