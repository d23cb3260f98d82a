import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { eventually } from '../support/eventually';
import { drainQueue } from '../support/queue';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, waitForTerminal } from '../support/ws-client';

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

describe('GET /api/v1/ai/usage/daily (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '10' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const daily = (user: TestUser, query = '') => t.http.get(`/api/v1/ai/usage/daily${query}`).set(user.auth);

  it('answers an empty last 30 days for a new user', async () => {
    const user = await registerUser(t);
    const res = await daily(user).expect(200);
    expect(res.body).toEqual({ from: daysAgo(29), to: today(), days: [] });
  });

  it('adds up REST chat, a socket stream, a completion job and embeddings per model for today', async () => {
    const user = await registerUser(t);
    fake.enqueue({ usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } }, { usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'one' }).expect(201);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'two', model: 'gpt-4o-mini' }).expect(201);

    const socket = await connectSocket(t.url, user.accessToken);
    const events = recordEvents(socket);
    fake.enqueue({ content: 'streamed', usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } });
    socket.emit('chat:start', { message: 'three' });
    expect((await waitForTerminal(events)).event).toBe('chat:end');
    socket.close();

    fake.enqueue({ usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 } });
    await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'four' }).expect(202);
    await drainQueue(t);

    const embedded = await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'five six seven' }).expect(200);
    await t.http.post('/api/v1/ai/jobs/embeddings').set(user.auth).send({ text: 'eight nine' }).expect(202);
    await drainQueue(t);
    const embeddingTokens = (await t.prisma.usageRecord.findMany({ where: { userId: user.id, kind: 'embedding' } })).reduce((sum, r) => sum + r.tokens, 0);
    expect(embeddingTokens).toBeGreaterThan(embedded.body.tokens);

    const res = await daily(user).expect(200);
    // gpt-4: $30/$60 per million; gpt-4o-mini: $0.15/$0.60.
    expect(res.body).toEqual({
      from: daysAgo(29),
      to: today(),
      days: [
        {
          date: today(),
          model: 'gpt-4',
          requests: 3,
          promptTokens: 12 + 30 + 100,
          completionTokens: 9 + 10 + 50,
          totalTokens: 21 + 40 + 150,
          costUsd: expect.closeTo((142 * 30 + 69 * 60) / 1e6, 10),
        },
        {
          date: today(),
          model: 'gpt-4o-mini',
          requests: 1,
          promptTokens: 5,
          completionTokens: 5,
          totalTokens: 10,
          costUsd: expect.closeTo((5 * 0.15 + 5 * 0.6) / 1e6, 12),
        },
        {
          date: today(),
          model: 'text-embedding-3-small',
          requests: 2,
          promptTokens: embeddingTokens,
          completionTokens: 0,
          totalTokens: embeddingTokens,
          // The registry has no price for the embedding model: its calls count, their cost stays null.
          costUsd: null,
        },
      ],
    });
    // The rollup agrees with the user's lifetime totals and the ledger.
    const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
    expect(me.body.totalTokensUsed).toBe(211 + 10 + embeddingTokens);
    const rows = await t.prisma.usageDaily.findMany({ where: { userId: user.id } });
    expect(rows.reduce((sum, r) => sum + r.totalTokens, 0)).toBe(me.body.totalTokensUsed);
  });

  it('counts a retried job once and a failed call not at all', async () => {
    const user = await registerUser(t);
    fake.enqueue({ status: 500 }, { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }, { status: 400 });
    const { body } = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'retry me' }).expect(202);
    await eventually(async () => (await t.http.get(`/api/v1/ai/jobs/${body.jobId}`).set(user.auth)).body.state === 'completed', 10_000);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'refused' }).expect(400);
    const res = await daily(user).expect(200);
    expect(res.body.days).toEqual([{ date: today(), model: 'gpt-4', requests: 1, promptTokens: 3, completionTokens: 4, totalTokens: 7, costUsd: expect.any(Number) }]);
  });

  it('keeps days apart, orders by day then model, and reads only the range asked for', async () => {
    const user = await registerUser(t);
    await t.prisma.usageDaily.createMany({
      data: [
        { userId: user.id, day: new Date(`${daysAgo(40)}T00:00:00Z`), model: 'gpt-4', requests: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2, costUsd: null },
        { userId: user.id, day: new Date(`${daysAgo(3)}T00:00:00Z`), model: 'gpt-4o', requests: 2, promptTokens: 10, completionTokens: 5, totalTokens: 15, costUsd: 0.5 },
        { userId: user.id, day: new Date(`${daysAgo(3)}T00:00:00Z`), model: 'claude', requests: 1, promptTokens: 4, completionTokens: 4, totalTokens: 8, costUsd: null },
      ],
    });
    const res = await daily(user, `?from=${daysAgo(5)}&to=${daysAgo(1)}`).expect(200);
    expect(res.body).toEqual({
      from: daysAgo(5),
      to: daysAgo(1),
      days: [
        { date: daysAgo(3), model: 'claude', requests: 1, promptTokens: 4, completionTokens: 4, totalTokens: 8, costUsd: null },
        { date: daysAgo(3), model: 'gpt-4o', requests: 2, promptTokens: 10, completionTokens: 5, totalTokens: 15, costUsd: 0.5 },
      ],
    });
    expect((await daily(user, `?from=${daysAgo(40)}&to=${daysAgo(40)}`).expect(200)).body.days).toHaveLength(1);
    // Another user's usage never shows.
    const other = await registerUser(t, 'other');
    expect((await daily(other, `?from=${daysAgo(40)}`).expect(200)).body.days).toEqual([]);
  });

  it.each([
    ['?from=2024-01-01&to=2025-01-01', 'The range covers 367 days; at most 366 are allowed'],
    ['?from=2025-01-02&to=2025-01-01', 'from must not be after to'],
    ['?from=2025-02-30', 'from must be a real calendar date'],
    ['?to=20250101', 'to must be a date written YYYY-MM-DD'],
    ['?from=yesterday', 'from must be a date written YYYY-MM-DD'],
    ['?other=1', 'property other should not exist'],
  ])('answers 400 to %s', async (query, message) => {
    const user = await registerUser(t);
    const res = await daily(user, query).expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.anything() });
    expect([res.body.message].flat()).toContain(message);
  });

  it('accepts exactly 366 days', async () => {
    const user = await registerUser(t);
    await daily(user, '?from=2024-01-01&to=2024-12-31').expect(200);
  });

  it('answers 401 without a token', async () => {
    await t.http.get('/api/v1/ai/usage/daily').expect(401);
  });
});
