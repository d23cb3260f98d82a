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

describe('BudgetService.settle and the usage ledger on PostgreSQL', () => {
  let db: RepositoryTier;
  beforeAll(async () => (db = await openRepositoryTier()));
  afterAll(() => db.close());

  const usage = (tokens: number, costUsd: number | null, model = 'text-embedding-3-small') => ({
    kind: 'embedding' as const,
    model,
    promptTokens: tokens,
    completionTokens: 0,
    totalTokens: tokens,
    costUsd,
  });

  it('records the call and counts it, in one statement, once per idempotency key', async () => {
    const user = await insertUser(db.prisma);
    const key = `job:${user.id}`;
    await db.budget.reserve(user.id, 100);
    await expect(db.budget.settle(user.id, { heldTokens: 100, usage: usage(12, 0.00024), idempotencyKey: key })).resolves.toBe(true);
    await db.budget.reserve(user.id, 100);
    await expect(db.budget.settle(user.id, { heldTokens: 100, usage: usage(12, 0.00024), idempotencyKey: key })).resolves.toBe(false);
    // The second call counted nothing; its hold went back all the same.
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ totalTokensUsed: 12, totalCostUsd: 0.00024, reservedTokens: 0 });
    expect(await db.prisma.usageRecord.count({ where: { userId: user.id } })).toBe(1);
  });

  it('records every call without a key, and a model without a price adds no cost', async () => {
    const user = await insertUser(db.prisma);
    for (let i = 0; i < 3; i++) await expect(db.budget.settle(user.id, { heldTokens: 0, usage: usage(5, null, 'local') })).resolves.toBe(true);
    expect(await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ totalTokensUsed: 15, totalCostUsd: 0 });
  });

  it('sums the ledger by model, a model without prices to a null cost', async () => {
    const user = await insertUser(db.prisma);
    const chat = (promptTokens: number, completionTokens: number, costUsd: number) => ({
      heldTokens: 0,
      usage: { kind: 'chat' as const, model: 'gpt-4o', promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, costUsd },
    });
    await db.budget.settle(user.id, chat(100, 50, 0.00075));
    await db.budget.settle(user.id, chat(10, 5, 0.000075));
    await db.budget.settle(user.id, { heldTokens: 0, usage: usage(7, null, 'local') });
    const totals = await db.budget.getUsage(user.id);
    expect(totals).toMatchObject({ totalTokensUsed: 172, totalCostUsd: 0.000825 });
    expect(totals.byModel).toEqual([
      { model: 'gpt-4o', requests: 2, promptTokens: 110, completionTokens: 55, totalTokens: 165, costUsd: 0.000825 },
      { model: 'local', requests: 1, promptTokens: 7, completionTokens: 0, totalTokens: 7, costUsd: null },
    ]);
  });
});
