import { TokenLimitExceededError } from '../../src/common/errors/app-error';
import { insertUser, openRepositoryTier, RepositoryTier } from '../support/repository-module';

describe('BudgetService on PostgreSQL', () => {
  let db: RepositoryTier;
  beforeAll(async () => (db = await openRepositoryTier()));
  afterAll(() => db.close());

  const userRow = (id: string) => db.prisma.user.findUniqueOrThrow({ where: { id } });

  it('reserves while anything is left, and refuses with 403 once usage and holds reach the limit', async () => {
    const user = await insertUser(db.prisma, { tokenLimit: 100, totalTokensUsed: 50 });
    await db.budget.reserve(user.id, 49);
    await db.budget.reserve(user.id, 500);
    await expect(db.budget.reserve(user.id, 1)).rejects.toThrow(TokenLimitExceededError);
    expect((await userRow(user.id)).reservedTokens).toBe(549);
  });

  it('replaces lapsed holds with the new one instead of adding to them', async () => {
    const user = await insertUser(db.prisma, { tokenLimit: 100, reservedTokens: 90, reservationExpiresAt: new Date(Date.now() - 1) });
    await db.budget.reserve(user.id, 30);
    expect((await userRow(user.id)).reservedTokens).toBe(30);
  });

  it('answers 404 for a user that does not exist', async () => {
    await expect(db.budget.reserve('00000000-0000-4000-8000-000000000000', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('release returns a hold without counting tokens or touching lastAiCallAt', async () => {
    const user = await insertUser(db.prisma, { totalTokensUsed: 7 });
    await db.budget.reserve(user.id, 40);
    await db.budget.release(user.id, 40);
    expect(await userRow(user.id)).toMatchObject({ reservedTokens: 0, totalTokensUsed: 7, lastAiCallAt: null });
  });

  it('of concurrent reservations, never admits one after usage and holds reached the limit', async () => {
    const user = await insertUser(db.prisma, { tokenLimit: 1000 });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => db.budget.reserve(user.id, 250)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect((await userRow(user.id)).reservedTokens).toBe(1000);
  });
});

describe('EmbeddingRecordRepository on PostgreSQL', () => {
  let db: RepositoryTier;
  beforeAll(async () => (db = await openRepositoryTier()));
  afterAll(() => db.close());

  it('records the call and settles the budget in one statement, once per idempotency key', async () => {
    const user = await insertUser(db.prisma);
    const record = { userId: user.id, model: 'text-embedding-3-small', tokens: 12, idempotencyKey: `job:${user.id}` };
    await db.budget.reserve(user.id, 100);
    await expect(db.embeddings.recordCall(record, db.budget.settlementOf(user.id, { tokens: 12, heldTokens: 100 }))).resolves.toBe(true);
    await db.budget.reserve(user.id, 100);
    await expect(db.embeddings.recordCall(record, db.budget.settlementOf(user.id, { tokens: 12, heldTokens: 100 }))).resolves.toBe(false);
    // The second call changed nothing: its hold is still there for the caller to release.
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ totalTokensUsed: 12, reservedTokens: 100 });
    expect(await db.prisma.embeddingRecord.count({ where: { userId: user.id } })).toBe(1);
  });

  it('records every call without a key', async () => {
    const user = await insertUser(db.prisma);
    for (let i = 0; i < 3; i++) {
      await expect(db.embeddings.recordCall({ userId: user.id, model: 'm', tokens: 5 }, db.budget.settlementOf(user.id, { tokens: 5, heldTokens: 0 }))).resolves.toBe(
        true,
      );
    }
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ totalTokensUsed: 15 });
  });
});
