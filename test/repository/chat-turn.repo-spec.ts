import type { TurnAnchor } from '../../src/ai/chat/chat-turn.types';
import { insertUser, openRepositoryTier, RepositoryTier } from '../support/repository-module';

describe('ChatTurnRepository (PostgreSQL)', () => {
  let db: RepositoryTier;
  beforeAll(async () => (db = await openRepositoryTier()));
  afterAll(() => db.close());

  const userRow = (id: string) => db.prisma.user.findUniqueOrThrow({ where: { id } });
  const question = (content: string) => ({ role: 'USER' as const, content });
  const context = (conversationId: string | null, userId: string, historyLimit = 10, anchor?: TurnAnchor) =>
    db.turns.findTurnContext(conversationId, userId, historyLimit, db.budget.standingOf(userId), anchor);
  const open = (userId: string, conversationId: string | null, heldTokens: number, content = 'hi') =>
    db.turns.openTurn({
      userId,
      conversationId,
      newConversationTitle: conversationId ? null : 'A title',
      message: question(content),
      hold: db.budget.holdOf(userId, heldTokens),
    });
  // An answer of `tokens` (null: failed) split 1:2 between prompt and completion, costing 1e-6 USD a token.
  const close = (userId: string, conversationId: string, tokens: number | null, heldTokens: number) => {
    const completionTokens = tokens === null ? 0 : Math.floor((2 * tokens) / 3);
    const usage =
      tokens === null
        ? null
        : { kind: 'chat' as const, model: 'gpt-4', promptTokens: tokens - completionTokens, completionTokens, totalTokens: tokens, costUsd: tokens / 1e6 };
    return db.turns.closeTurn({
      conversationId,
      answer: {
        role: 'ASSISTANT',
        content: 'answer',
        promptTokens: usage?.promptTokens,
        completionTokens: usage?.completionTokens,
        tokens,
        costUsd: usage?.costUsd,
        model: 'gpt-4',
        status: tokens === null ? 'failed' : 'complete',
      },
      settlement: db.budget.settlementOf(userId, { heldTokens, usage }),
    });
  };
  // A flat conversation: each message follows the one before.
  async function conversationWith(userId: string, contents: string[]) {
    const conversation = await db.prisma.conversation.create({ data: { userId, title: 't', messageCount: contents.length } });
    const base = Date.UTC(2026, 0, 1);
    const ids: string[] = [];
    for (const [i, content] of contents.entries()) {
      const message = await db.prisma.message.create({
        data: { conversationId: conversation.id, parentId: ids.at(-1) ?? null, role: i % 2 ? 'ASSISTANT' : 'USER', content, createdAt: new Date(base + i * 1000) },
      });
      ids.push(message.id);
    }
    return Object.assign(conversation, { messageIds: ids });
  }
  const turn = (role: 'USER' | 'ASSISTANT', content: string) =>
    expect.objectContaining({ id: expect.any(String), role, content, status: 'complete', contentTokens: null });

  describe('findTurnContext', () => {
    it('is null for a user that does not exist', async () => {
      await expect(context(null, '00000000-0000-4000-8000-000000000000')).resolves.toBeNull();
    });

    it('answers budget, ownership and the newest messages oldest first in one read', async () => {
      const user = await insertUser(db.prisma);
      const conversation = await conversationWith(user.id, ['m1', 'm2', 'm3', 'm4', 'm5']);
      const found = await context(conversation.id, user.id, 3);
      const newest = { id: conversation.messageIds[4], role: null };
      expect(found).toEqual({
        withinBudget: true,
        conversationFound: true,
        systemPrompt: null,
        anchor: newest,
        history: [turn('USER', 'm3'), turn('ASSISTANT', 'm4'), turn('USER', 'm5')],
      });
      // Only what the prompt reads of each message.
      expect(Object.keys(found!.history[0]).sort()).toEqual(['content', 'contentTokens', 'id', 'role', 'status']);
      await expect(context(conversation.id, user.id, 0)).resolves.toEqual({
        withinBudget: true,
        conversationFound: true,
        systemPrompt: null,
        anchor: newest,
        history: [],
      });
    });

    it('walks the path to the anchor through a tree, never a sibling branch', async () => {
      const user = await insertUser(db.prisma);
      const conversation = await conversationWith(user.id, ['q1', 'a1', 'q2', 'a2']);
      const [, a1, q2] = conversation.messageIds;
      // An edit of q2 (a second child of a1), answered, created after everything else.
      const edited = await db.prisma.message.create({
        data: { conversationId: conversation.id, parentId: a1, role: 'USER', content: 'q2 edited', createdAt: new Date(Date.UTC(2026, 0, 2)) },
      });
      const contents = (found: Awaited<ReturnType<typeof context>>) => found!.history.map((m) => m.content);

      expect(contents(await context(conversation.id, user.id))).toEqual(['q1', 'a1', 'q2 edited']);
      expect(contents(await context(conversation.id, user.id, 10, { kind: 'parent', messageId: conversation.messageIds[3] }))).toEqual(['q1', 'a1', 'q2', 'a2']);
      expect(contents(await context(conversation.id, user.id, 2, { kind: 'parent', messageId: conversation.messageIds[3] }))).toEqual(['q2', 'a2']);
      // Regenerating a2: the path to its question, the question on top of the limit.
      const regenerated = await context(conversation.id, user.id, 1, { kind: 'regenerate', messageId: conversation.messageIds[3] });
      expect(regenerated).toMatchObject({ anchor: { id: conversation.messageIds[3], role: 'ASSISTANT' } });
      expect(contents(regenerated)).toEqual(['a1', 'q2']);
      expect(regenerated!.history.at(-1)!.id).toBe(q2);
      // Its question comes whole: it is the turn's user message.
      expect(regenerated!.regeneratedQuestion).toMatchObject({ id: q2, conversationId: conversation.id, parentId: a1, role: 'USER', createdAt: expect.any(Date) });
      // An anchor outside the conversation is not found, and the history is empty.
      const elsewhere = await conversationWith(user.id, ['other']);
      await expect(context(conversation.id, user.id, 10, { kind: 'parent', messageId: elsewhere.messageIds[0] })).resolves.toMatchObject({ anchor: null, history: [] });
      expect(edited.parentId).toBe(a1);
    });

    it("answers the conversation's own system prompt, and none for another user's", async () => {
      const [owner, other] = [await insertUser(db.prisma), await insertUser(db.prisma)];
      const conversation = await conversationWith(owner.id, []);
      await db.prisma.conversation.update({ where: { id: conversation.id }, data: { systemPrompt: 'Be brief.' } });
      await expect(context(conversation.id, owner.id)).resolves.toMatchObject({ conversationFound: true, systemPrompt: 'Be brief.' });
      await expect(context(conversation.id, other.id)).resolves.toMatchObject({ conversationFound: false, systemPrompt: null });
    });

    it("does not find another user's conversation, nor show its messages", async () => {
      const [owner, other] = [await insertUser(db.prisma), await insertUser(db.prisma)];
      const conversation = await conversationWith(owner.id, ['secret']);
      await expect(context(conversation.id, other.id)).resolves.toEqual({ withinBudget: true, conversationFound: false, systemPrompt: null, anchor: null, history: [] });
    });

    it('counts live holds against the budget, and ignores lapsed or negative ones', async () => {
      const inAMinute = new Date(Date.now() + 60_000);
      const held = await insertUser(db.prisma, { tokenLimit: 100, totalTokensUsed: 60, reservedTokens: 40, reservationExpiresAt: inAMinute });
      const lapsed = await insertUser(db.prisma, { tokenLimit: 100, totalTokensUsed: 60, reservedTokens: 40, reservationExpiresAt: new Date(Date.now() - 1000) });
      const negative = await insertUser(db.prisma, { tokenLimit: 100, totalTokensUsed: 60, reservedTokens: -500, reservationExpiresAt: inAMinute });
      const spent = await insertUser(db.prisma, { tokenLimit: 100, totalTokensUsed: 100 });
      expect((await context(null, held.id))!.withinBudget).toBe(false);
      expect((await context(null, lapsed.id))!.withinBudget).toBe(true);
      expect((await context(null, negative.id))!.withinBudget).toBe(true);
      expect((await context(null, spent.id))!.withinBudget).toBe(false);
    });
  });

  describe('openTurn', () => {
    it('starts a conversation: hold taken, conversation titled, question stored', async () => {
      const user = await insertUser(db.prisma);
      const result = await open(user.id, null, 250, 'first question');
      expect(result).toEqual({
        outcome: 'opened',
        userMessage: expect.objectContaining({ role: 'USER', content: 'first question', status: 'complete', tokens: null, createdAt: expect.any(Date) }),
      });
      if (result.outcome !== 'opened') throw new Error('not opened');
      const conversation = await db.prisma.conversation.findUniqueOrThrow({ where: { id: result.userMessage.conversationId } });
      expect(conversation).toMatchObject({ userId: user.id, title: 'A title', messageCount: 1, totalTokens: 0 });
      const after = await userRow(user.id);
      expect(after.reservedTokens).toBe(250);
      expect(after.reservationExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 60_000);
      expect(after.totalTokensUsed).toBe(0);
    });

    it('continues a conversation: counter and updatedAt move, the hold adds to live holds', async () => {
      const user = await insertUser(db.prisma, { reservedTokens: 100, reservationExpiresAt: new Date(Date.now() + 60_000) });
      const conversation = await conversationWith(user.id, ['m1']);
      const result = await open(user.id, conversation.id, 50);
      expect(result.outcome).toBe('opened');
      const after = await db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } });
      expect(after.messageCount).toBe(2);
      expect(after.updatedAt.getTime()).toBeGreaterThan(conversation.updatedAt.getTime());
      expect((await userRow(user.id)).reservedTokens).toBe(150);
    });

    it('writes nothing when the budget is used up', async () => {
      const user = await insertUser(db.prisma, { tokenLimit: 10, totalTokensUsed: 10 });
      await expect(open(user.id, null, 5)).resolves.toEqual({ outcome: 'over-budget' });
      expect(await db.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
      expect((await userRow(user.id)).reservedTokens).toBe(0);
    });

    it("takes no hold on another user's conversation", async () => {
      const [owner, other] = [await insertUser(db.prisma), await insertUser(db.prisma)];
      const conversation = await conversationWith(owner.id, ['m1']);
      await expect(open(other.id, conversation.id, 5)).resolves.toEqual({ outcome: 'conversation-not-found' });
      expect((await userRow(other.id)).reservedTokens).toBe(0);
      expect(await db.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(1);
    });

    it('of concurrent turns, admits exactly those that start while something is left', async () => {
      // 10 holds of 300 on a limit of 1,000: the 1st to 4th find 0, 300, 600 and 900 held (< 1,000).
      const user = await insertUser(db.prisma, { tokenLimit: 1000 });
      const results = await Promise.all(Array.from({ length: 10 }, () => open(user.id, null, 300)));
      expect(results.filter((r) => r.outcome === 'opened')).toHaveLength(4);
      expect(results.filter((r) => r.outcome === 'over-budget')).toHaveLength(6);
      expect((await userRow(user.id)).reservedTokens).toBe(1200);
      expect(await db.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(4);
    });

    it('reports a conversation deleted while the hold waited for the user row as gone, storing nothing', async () => {
      const user = await insertUser(db.prisma);
      const conversation = await conversationWith(user.id, ['m1']);
      await db.side.query('BEGIN');
      await db.side.query('SELECT 1 FROM "User" WHERE "id" = $1 FOR UPDATE', [user.id]);
      const opening = open(user.id, conversation.id, 40);
      await waitForLockWaiters(db, 1);
      await db.prisma.conversation.delete({ where: { id: conversation.id } });
      await db.side.query('COMMIT');
      await expect(opening).resolves.toEqual({ outcome: 'conversation-gone' });
      // The hold was taken in the same statement; the caller gives it back.
      expect((await userRow(user.id)).reservedTokens).toBe(40);
      expect(await db.prisma.message.count({ where: { conversationId: conversation.id } })).toBe(0);
    });
  });

  describe('closeTurn', () => {
    it('stores the answer, moves the conversation counters and settles tokens and hold', async () => {
      const user = await insertUser(db.prisma, { reservedTokens: 500, reservationExpiresAt: new Date(Date.now() + 60_000) });
      const conversation = await conversationWith(user.id, ['q']);
      const answer = await close(user.id, conversation.id, 42, 500);
      expect(answer).toEqual(
        expect.objectContaining({
          conversationId: conversation.id,
          role: 'ASSISTANT',
          content: 'answer',
          promptTokens: 14,
          completionTokens: 28,
          tokens: 42,
          costUsd: 0.000042,
          model: 'gpt-4',
          status: 'complete',
        }),
      );
      expect(await db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).toMatchObject({
        messageCount: 2,
        totalTokens: 42,
        totalCostUsd: 0.000042,
      });
      const after = await userRow(user.id);
      expect(after).toMatchObject({ totalTokensUsed: 42, totalCostUsd: 0.000042, reservedTokens: 0 });
      expect(after.lastAiCallAt).toEqual(expect.any(Date));
      expect(await db.prisma.usageRecord.findMany({ where: { userId: user.id } })).toEqual([
        expect.objectContaining({ kind: 'chat', model: 'gpt-4', promptTokens: 14, completionTokens: 28, tokens: 42, costUsd: 0.000042 }),
      ]);
    });

    it('counts no tokens for a failed answer but returns its hold', async () => {
      const user = await insertUser(db.prisma, { reservedTokens: 500, reservationExpiresAt: new Date(Date.now() + 60_000) });
      const conversation = await conversationWith(user.id, ['q']);
      expect(await close(user.id, conversation.id, null, 500)).toMatchObject({ status: 'failed', tokens: null, costUsd: null });
      expect(await userRow(user.id)).toMatchObject({ totalTokensUsed: 0, totalCostUsd: 0, reservedTokens: 0, lastAiCallAt: null });
      expect(await db.prisma.usageRecord.count({ where: { userId: user.id } })).toBe(0);
    });

    it('writes nothing, the settle included, when the conversation is gone', async () => {
      const user = await insertUser(db.prisma, { reservedTokens: 500, reservationExpiresAt: new Date(Date.now() + 60_000) });
      const conversation = await conversationWith(user.id, ['q']);
      await db.prisma.conversation.delete({ where: { id: conversation.id } });
      await expect(close(user.id, conversation.id, 42, 500)).resolves.toBeNull();
      expect(await userRow(user.id)).toMatchObject({ totalTokensUsed: 0, reservedTokens: 500 });
      expect(await db.prisma.usageRecord.count({ where: { userId: user.id } })).toBe(0);
    });

    it('loses no tokens when many turns of one user close at once', async () => {
      const user = await insertUser(db.prisma, { reservedTokens: 20 * 100, reservationExpiresAt: new Date(Date.now() + 60_000) });
      const conversation = await conversationWith(user.id, []);
      await Promise.all(Array.from({ length: 20 }, (_, i) => close(user.id, conversation.id, i + 1, 100)));
      expect(await userRow(user.id)).toMatchObject({ totalTokensUsed: 210, reservedTokens: 0 });
      expect(await db.prisma.conversation.findUniqueOrThrow({ where: { id: conversation.id } })).toMatchObject({ messageCount: 20, totalTokens: 210 });
    });
  });

  it('runs each of its statements as one prepared statement per shape', async () => {
    const user = await insertUser(db.prisma);
    const opened = await open(user.id, null, 10);
    if (opened.outcome !== 'opened') throw new Error('not opened');
    await context(opened.userMessage.conversationId, user.id);
    await close(user.id, opened.userMessage.conversationId, 5, 10);
    const before = preparedCount(db);
    const again = await open(user.id, opened.userMessage.conversationId, 10);
    expect(again.outcome).toBe('opened');
    await context(opened.userMessage.conversationId, user.id);
    await close(user.id, opened.userMessage.conversationId, 5, 10);
    // Same shapes, same statements: nothing new was prepared on any pooled connection.
    expect(preparedCount(db)).toBe(before);
  });
});

// Backends of this database waiting on a lock: the statement under test has reached the row lock.
async function waitForLockWaiters(db: RepositoryTier, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.side.query<{ waiting: number }>(
      `SELECT count(*)::int AS "waiting" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].waiting >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the statement never waited on the lock');
}

// Prepared statements known to the pool (PrismaService names each shape once).
function preparedCount(db: RepositoryTier): number {
  return (db.prisma as unknown as { statementNames: Map<string, string> }).statementNames.size;
}
