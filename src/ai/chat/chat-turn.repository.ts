import { Injectable } from '@nestjs/common';
import { Prisma, type Message, type MessageStatus, type Role } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';
import { LIVE_HOLDS, NOW_UTC, UsersRepository } from '../../users/users.repository';

export interface NewMessage {
  role: Role;
  content: string;
  tokens?: number | null;
  tokensEstimated?: boolean;
  model?: string | null;
  status?: MessageStatus;
  idempotencyKey?: string | null;
}

export type HistoryMessage = Pick<Message, 'id' | 'role' | 'content' | 'status'>;

// What a turn needs to know before the model is called, read in one statement.
export interface TurnContext {
  withinBudget: boolean;
  conversationFound: boolean;
  // Oldest first.
  history: HistoryMessage[];
}

export type OpenTurnResult =
  | { outcome: 'opened'; userMessage: Message }
  | { outcome: 'over-budget' | 'conversation-not-found' }
  // The conversation was deleted after the hold was taken: the caller gives the hold back.
  | { outcome: 'conversation-gone' };

interface TurnContextRow {
  withinBudget: boolean;
  conversationFound: boolean;
  id: string | null;
  role: Role | null;
  content: string | null;
  status: MessageStatus | null;
}

type OpenTurnRow = { held: boolean; conversationFound: boolean } & ({ [K in keyof Message]: Message[K] | null });

// The statements of a chat turn. Each is a single SQL statement (data-modifying CTEs), so each is
// atomic on its own and costs one round trip: a turn is one read and two writes, whatever its length.
// They run as prepared statements (PrismaService.queryPrepared): they are on every turn's path.
@Injectable()
export class ChatTurnRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly users: UsersRepository,
  ) {}

  // The budget check, the ownership check and the newest `historyLimit` messages (served by the
  // (conversationId, createdAt) index). No row: the user no longer exists.
  async findTurnContext(userId: string, conversationId: string | null, historyLimit: number): Promise<TurnContext | null> {
    const rows = await this.prisma.queryPrepared<TurnContextRow>(Prisma.sql`
      SELECT u."totalTokensUsed" + ${LIVE_HOLDS} < u."tokenLimit" AS "withinBudget",
             c."id" IS NOT NULL AS "conversationFound",
             h."id", h."role"::text AS "role", h."content", h."status"::text AS "status"
      FROM "User" u
      LEFT JOIN "Conversation" c ON c."id" = ${conversationId}::uuid AND c."userId" = u."id"
      LEFT JOIN LATERAL (
        SELECT m."id", m."role", m."content", m."status", m."createdAt"
        FROM "Message" m
        WHERE m."conversationId" = c."id"
        ORDER BY m."createdAt" DESC, m."id" DESC
        LIMIT ${historyLimit}::int
      ) h ON true
      WHERE u."id" = ${userId}::uuid
      ORDER BY h."createdAt" ASC, h."id" ASC`);
    if (rows.length === 0) return null;
    const history = rows.filter((row) => row.id !== null) as HistoryMessage[];
    return { withinBudget: rows[0].withinBudget, conversationFound: rows[0].conversationFound, history };
  }

  // Holds `heldTokens` on the user's budget and stores the user message (in a new conversation when
  // `conversationId` is null), in one statement: the hold is taken only if the budget allows it and
  // the conversation is the user's, and the message only if the hold was taken.
  async openTurn(
    userId: string,
    target: { conversationId: string } | { newConversationTitle: string | null },
    message: NewMessage,
    heldTokens: number,
    holdTtlMs: number,
  ): Promise<OpenTurnResult> {
    const conversationId = 'conversationId' in target ? target.conversationId : null;
    const ownsConversation = Prisma.sql`EXISTS (SELECT 1 FROM "Conversation" WHERE "id" = ${conversationId}::uuid AND "userId" = ${userId}::uuid)`;
    const conversation =
      conversationId === null
        ? Prisma.sql`
          INSERT INTO "Conversation" ("id", "userId", "title", "messageCount", "totalTokens", "createdAt", "updatedAt")
          SELECT gen_random_uuid(), ${userId}::uuid, ${'newConversationTitle' in target ? target.newConversationTitle : null}::text, 1, 0, ${NOW_UTC}, ${NOW_UTC}
          FROM hold
          RETURNING "id"`
        : Prisma.sql`
          UPDATE "Conversation"
          SET "messageCount" = "messageCount" + 1, "updatedAt" = ${NOW_UTC}
          WHERE "id" = ${conversationId}::uuid AND "userId" = ${userId}::uuid AND EXISTS (SELECT 1 FROM hold)
          RETURNING "id"`;
    const [row] = await this.prisma.queryPrepared<OpenTurnRow>(Prisma.sql`
      WITH hold AS (
        ${this.users.reserveTokensSql(userId, heldTokens, holdTtlMs, conversationId === null ? Prisma.sql`true` : ownsConversation)}
        RETURNING 1
      ),
      c AS (${conversation}),
      m AS (${insertMessageFrom(message)})
      SELECT EXISTS (SELECT 1 FROM hold) AS "held", ${conversationId === null ? Prisma.sql`true` : ownsConversation} AS "conversationFound", m.*
      FROM (SELECT 1) AS one LEFT JOIN m ON true`);
    if (row.id !== null) return { outcome: 'opened', userMessage: toMessage(row) };
    if (row.held) return { outcome: 'conversation-gone' };
    return { outcome: row.conversationFound ? 'over-budget' : 'conversation-not-found' };
  }

  // Stores the answer, bumps the conversation's counters and settles the user's tokens and hold, in
  // one statement (increments in SQL, so concurrent turns never lose tokens). Null: the
  // conversation is gone (deleted meanwhile); nothing was written.
  async closeTurn(userId: string, conversationId: string, answer: NewMessage, heldTokens: number): Promise<Message | null> {
    const [row] = await this.prisma.queryPrepared<Message>(Prisma.sql`
      WITH c AS (
        UPDATE "Conversation"
        SET "messageCount" = "messageCount" + 1, "totalTokens" = "totalTokens" + ${answer.tokens ?? 0}::int, "updatedAt" = ${NOW_UTC}
        WHERE "id" = ${conversationId}::uuid
        RETURNING "id"
      ),
      settle AS (
        ${this.users.settleTokenUsageSql(userId, { tokens: answer.tokens ?? null, heldTokens }, Prisma.sql`EXISTS (SELECT 1 FROM c)`)}
        RETURNING 1
      )
      ${insertMessageFrom(answer)}`);
    return row ?? null;
  }
}

// Inserts `message` into the conversation returned by the CTE `c`, returning it as Prisma would.
function insertMessageFrom(message: NewMessage): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "Message" ("id", "conversationId", "role", "content", "tokens", "tokensEstimated", "model", "status", "idempotencyKey", "createdAt")
    SELECT gen_random_uuid(), c."id", ${message.role}::"Role", ${message.content}::text, ${message.tokens ?? null}::int,
           ${message.tokensEstimated ?? false}::boolean, ${message.model ?? null}::text, ${message.status ?? 'complete'}::"MessageStatus",
           ${message.idempotencyKey ?? null}::text, ${NOW_UTC}
    FROM c
    RETURNING "id", "conversationId", "role"::text AS "role", "content", "tokens", "tokensEstimated", "model",
              "status"::text AS "status", "idempotencyKey", "createdAt"`;
}

function toMessage(row: OpenTurnRow): Message {
  const { held: _held, conversationFound: _found, ...message } = row;
  return message as Message;
}
