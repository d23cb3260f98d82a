import { UsageAnalyticsService } from '../../src/budget/usage-analytics.service';
import { insertUser, openRepositoryTier, RepositoryTier } from '../support/repository-module';

const today = () => new Date().toISOString().slice(0, 10);

describe('the daily usage rollup on PostgreSQL', () => {
  let db: RepositoryTier;
  let analytics: UsageAnalyticsService;
  beforeAll(async () => {
    db = await openRepositoryTier();
    analytics = db.module.get(UsageAnalyticsService);
  });
  afterAll(() => db.close());

  const usage = (totalTokens: number, costUsd: number | null, model = 'gpt-4o') => ({
    kind: 'chat' as const,
    model,
    promptTokens: totalTokens - 1,
    completionTokens: 1,
    totalTokens,
    costUsd,
  });

  it('adds every settled call to its day and model, in the settle statement, once per idempotency key', async () => {
    const user = await insertUser(db.prisma);
    await db.budget.settle(user.id, { heldTokens: 0, usage: usage(10, null) });
    await db.budget.settle(user.id, { heldTokens: 0, usage: usage(20, 0.5), idempotencyKey: `k:${user.id}` });
    expect(await db.budget.settle(user.id, { heldTokens: 0, usage: usage(20, 0.5), idempotencyKey: `k:${user.id}` })).toBe(false);
    await db.budget.settle(user.id, { heldTokens: 0, usage: usage(5, null, 'claude') });
    await db.budget.settle(user.id, { heldTokens: 0, usage: null });
    expect((await analytics.dailyForUser(user.id, {})).days).toEqual([
      { date: today(), model: 'claude', requests: 1, promptTokens: 4, completionTokens: 1, totalTokens: 5, costUsd: null },
      { date: today(), model: 'gpt-4o', requests: 2, promptTokens: 28, completionTokens: 2, totalTokens: 30, costUsd: 0.5 },
    ]);
  });

  it('loses nothing under concurrent settles of one user, day and model', async () => {
    const user = await insertUser(db.prisma);
    await Promise.all(Array.from({ length: 40 }, (_, i) => db.budget.settle(user.id, { heldTokens: 0, usage: usage(i + 1, 0.25) })));
    const [row] = (await analytics.dailyForUser(user.id, {})).days;
    expect(row).toEqual({ date: today(), model: 'gpt-4o', requests: 40, promptTokens: 820 - 40, completionTokens: 40, totalTokens: 820, costUsd: 10 });
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed).toBe(820);
  });

  it('sums over every user by day, model and user, with the biggest users first', async () => {
    const [a, b] = [await insertUser(db.prisma), await insertUser(db.prisma)];
    const day = (d: string) => new Date(`${d}T00:00:00Z`);
    await db.prisma.usageDaily.createMany({
      data: [
        { userId: a.id, day: day('1999-01-01'), model: 'm1', requests: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2, costUsd: null },
        { userId: b.id, day: day('1999-01-02'), model: 'm1', requests: 2, promptTokens: 5, completionTokens: 5, totalTokens: 10, costUsd: 1 },
        { userId: b.id, day: day('1999-01-02'), model: 'm2', requests: 1, promptTokens: 1, completionTokens: 0, totalTokens: 1, costUsd: null },
      ],
    });
    const byUser = await analytics.overview({ from: '1999-01-01', to: '1999-01-02', groupBy: 'user', limit: 10 });
    expect(byUser.totals).toEqual({ requests: 4, promptTokens: 7, completionTokens: 6, totalTokens: 13, costUsd: 1 });
    expect(byUser.groups.map((g) => [g.userId, g.totalTokens, g.costUsd])).toEqual([
      [b.id, 11, 1],
      [a.id, 2, null],
    ]);
    const empty = await analytics.overview({ from: '1998-01-01', to: '1998-01-02', groupBy: 'day', limit: 10 });
    expect(empty).toEqual({
      from: '1998-01-01',
      to: '1998-01-02',
      groupBy: 'day',
      totals: { requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: null },
      groups: [],
    });
  });
});
