import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { TEST_OPENAI_KEY } from '../support/test-env';

const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe('POST /api/v1/ai/chat (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_HISTORY_LIMIT: '4', AI_MAX_MESSAGE_LENGTH: '200', OPENAI_MAX_TOKENS: '1000' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const chat = (user: TestUser, body: object) => t.http.post('/api/v1/ai/chat').set(user.auth).send(body);

  it('answers a first message in a new conversation, stores both messages and counts the tokens', async () => {
    const user = await registerUser(t);
    fake.enqueue({ content: 'NestJS is a progressive Node.js framework.', usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } });
    const res = await chat(user, { message: '  Explain   NestJS to me  ' }).expect(201);
    expect(res.body).toEqual({
      conversationId: anyId,
      messageId: anyId,
      content: 'NestJS is a progressive Node.js framework.',
      model: 'gpt-4',
      tokens: 21,
      // gpt-4 at $30 / $60 per million tokens: 12 × 30 + 9 × 60 = 900 millionths of a dollar.
      costUsd: 0.0009,
      createdAt: anyDate,
    });
    const [upstream] = fake.chatRequests();
    expect(upstream.body).toEqual({
      model: 'gpt-4',
      messages: [{ role: 'user', content: '  Explain   NestJS to me  ' }],
      max_tokens: 1000,
      temperature: 0.7,
    });
    expect(upstream.headers.authorization).toBe(`Bearer ${TEST_OPENAI_KEY}`);

    const conversation = await t.prisma.conversation.findUniqueOrThrow({
      where: { id: res.body.conversationId },
      include: { messages: { orderBy: { createdAt: 'asc' } } },
    });
    expect(conversation).toMatchObject({ userId: user.id, title: 'Explain NestJS to me', messageCount: 2, totalTokens: 21 });
    expect(conversation.messages.map((m) => [m.role, m.content, m.tokens, m.model, m.status])).toEqual([
      ['USER', '  Explain   NestJS to me  ', null, null, 'complete'],
      ['ASSISTANT', 'NestJS is a progressive Node.js framework.', 21, 'gpt-4', 'complete'],
    ]);
    expect(conversation.messages[1].id).toBe(res.body.messageId);
    const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
    expect(me.body.totalTokensUsed).toBe(21);
  });

  it('cuts a long first message to an 80-character title', async () => {
    const user = await registerUser(t);
    const message = 'word '.repeat(30);
    const res = await chat(user, { message }).expect(201);
    const { title } = await t.prisma.conversation.findUniqueOrThrow({ where: { id: res.body.conversationId } });
    expect(title!.length).toBeLessThanOrEqual(80);
    expect(title).toMatch(/^word word/);
  });

  it('forwards model, maxTokens and temperature', async () => {
    const user = await registerUser(t);
    await chat(user, { message: 'hi', model: 'gpt-3.5-turbo', maxTokens: 50, temperature: 0 }).expect(201);
    expect(fake.chatRequests()[0].body).toMatchObject({ model: 'gpt-3.5-turbo', max_tokens: 50, temperature: 0 });
  });

  it('sends the history oldest first, capped at AI_HISTORY_LIMIT prior messages', async () => {
    const user = await registerUser(t);
    const first = await chat(user, { message: 'm1' }).expect(201);
    const conversationId = first.body.conversationId;
    for (const message of ['m2', 'm3']) await chat(user, { message, conversationId }).expect(201);
    fake.reset();
    const res = await chat(user, { message: 'm4', conversationId }).expect(201);
    expect(res.body.conversationId).toBe(conversationId);
    expect(fake.chatRequests()[0].body.messages).toEqual([
      { role: 'user', content: 'm2' },
      { role: 'assistant', content: 'Echo: m2' },
      { role: 'user', content: 'm3' },
      { role: 'assistant', content: 'Echo: m3' },
      { role: 'user', content: 'm4' },
    ]);
    const stored = await t.prisma.message.count({ where: { conversationId } });
    expect(stored).toBe(8);
  });

  it('accepts conversationId: null as a new conversation', async () => {
    const user = await registerUser(t);
    const res = await chat(user, { message: 'hello', conversationId: null }).expect(201);
    expect(res.body.conversationId).toEqual(anyId);
  });

  describe('validation', () => {
    it.each([
      ['a missing message', {}],
      ['an empty message', { message: '' }],
      ['a blank message', { message: '   ' }],
      ['a message over AI_MAX_MESSAGE_LENGTH', { message: 'x'.repeat(201) }],
      ['a non-string message', { message: 42 }],
      ['a malformed conversationId', { message: 'hi', conversationId: 'not-a-uuid' }],
      ['maxTokens 0', { message: 'hi', maxTokens: 0 }],
      ['maxTokens over OPENAI_MAX_TOKENS', { message: 'hi', maxTokens: 1001 }],
      ['a fractional maxTokens', { message: 'hi', maxTokens: 1.5 }],
      ['a string maxTokens', { message: 'hi', maxTokens: '10' }],
      ['temperature above 2', { message: 'hi', temperature: 2.1 }],
      ['a negative temperature', { message: 'hi', temperature: -0.1 }],
      ['an odd model name', { message: 'hi', model: 'gpt 4; drop table' }],
      ['an unknown property', { message: 'hi', stream: true }],
      ['a userId', { message: 'hi', userId: '5b0e6b57-4c0e-4b4b-9b8e-0a1b2c3d4e5f' }],
    ])('answers 400 to %s, never calls the upstream and stores nothing', async (_label, body) => {
      const user = await registerUser(t);
      const res = await chat(user, body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(Array), error: 'Bad Request' });
      expect(fake.chatRequests()).toHaveLength(0);
      expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
    });
  });

  it("answers 404 for another user's conversation and stores nothing in it", async () => {
    const owner = await registerUser(t, 'owner');
    const other = await registerUser(t, 'other');
    const { body } = await chat(owner, { message: 'secret' }).expect(201);
    fake.reset();
    const res = await chat(other, { message: 'let me in', conversationId: body.conversationId }).expect(404);
    expect(res.body).toEqual({ statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await t.prisma.message.count({ where: { conversationId: body.conversationId } })).toBe(2);
  });

  it('answers 404 for a conversation that does not exist', async () => {
    const user = await registerUser(t);
    await chat(user, { message: 'hi', conversationId: '6f1c2a7e-1111-4222-8333-444455556666' }).expect(404);
  });

  it('answers 403 once the token budget is used up, before calling the upstream', async () => {
    const user = await registerUser(t);
    await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 50, totalTokensUsed: 50 } });
    const res = await chat(user, { message: 'hi' }).expect(403);
    expect(res.body).toEqual({ statusCode: 403, message: 'Token limit exceeded', error: 'Forbidden' });
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
  });

  it('still answers just under the budget', async () => {
    const user = await registerUser(t);
    await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 50, totalTokensUsed: 49 } });
    await chat(user, { message: 'hi' }).expect(201);
  });

  describe('upstream errors', () => {
    const cases: Array<[string, object, number, string]> = [
      ['an unknown model', { status: 404, error: { message: "The model 'gpt-5' does not exist", code: 'model_not_found' } }, 400, "The model 'gpt-5' does not exist"],
      [
        'a context length error',
        { status: 400, error: { message: "This model's maximum context length is 8192 tokens", code: 'context_length_exceeded' } },
        400,
        "This model's maximum context length is 8192 tokens",
      ],
      [
        'an upstream rate limit',
        { status: 429, error: { message: 'Rate limit reached' }, headers: { 'retry-after': '0' } },
        429,
        'The AI provider is rate limiting requests; retry later',
      ],
      ['an upstream 500', { status: 500 }, 502, 'The AI provider is unavailable'],
      ['a rejected API key', { status: 401, error: { message: 'Incorrect API key provided: sk-test-***' } }, 502, 'The AI provider is unavailable'],
    ];

    it.each(cases)('maps %s, keeps the user message and counts nothing', async (_label, behaviour, status, message) => {
      const user = await registerUser(t);
      fake.enqueue(behaviour);
      const res = await chat(user, { message: 'will fail' }).expect(status);
      expect(res.body).toEqual({ statusCode: status, message, error: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/sk-test|stack|at .*\.ts|SELECT/i);
      const messages = await t.prisma.message.findMany({ where: { conversation: { userId: user.id } } });
      expect(messages.map((m) => [m.role, m.content])).toEqual([['USER', 'will fail']]);
      const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(me.totalTokensUsed).toBe(0);
    });
  });

  describe('rate limit', () => {
    it('refuses the 21st call in a window with 429 and Retry-After while another user is unaffected', async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      for (let i = 0; i < 19; i++) await chat(user, { message: `m${i}` }).expect(201);
      const last = await chat(user, { message: 'm19' }).expect(201);
      expect(last.headers).toMatchObject({ 'x-ratelimit-limit': '20', 'x-ratelimit-remaining': '0' });
      const upstreamCalls = fake.chatRequests().length;
      const stored = await t.prisma.message.count({ where: { conversation: { userId: user.id } } });
      const res = await chat(user, { message: 'one too many' }).expect(429);
      expect(res.body).toEqual({ statusCode: 429, message: 'Too many requests', error: 'Too Many Requests' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Refused before anything was held, stored or sent upstream.
      expect(fake.chatRequests()).toHaveLength(upstreamCalls);
      expect(await t.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(stored);
      expect(await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ reservedTokens: 0 });
      // Over the limit, a foreign conversation still answers 429: nothing about it is revealed.
      await chat(user, { message: 'x', conversationId: '00000000-0000-4000-8000-000000000000' }).expect(429);
      // Embeddings share the same per-user budget of calls.
      await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'x' }).expect(429);
      await chat(other, { message: 'fine' }).expect(201);
    });

    it('lets exactly 20 of 30 simultaneous calls through', async () => {
      const user = await registerUser(t);
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(user, { message: `c${i}` })));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    });
  });

  it('counts every token of 10 concurrent chats of one user', async () => {
    const user = await registerUser(t);
    fake.setDefault({ delayMs: 20 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(user, { message: `concurrent ${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    const sum = await t.prisma.message.aggregate({ where: { conversation: { userId: user.id } }, _sum: { tokens: true } });
    const me = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(me.totalTokensUsed).toBe(sum._sum.tokens);
    expect(me.totalTokensUsed).toBe(results.reduce((acc, r) => acc + r.body.tokens, 0));
  });
});

describe('AI configuration (e2e)', () => {
  it('answers 503 "OpenAI client not initialized" without key and base URL, storing nothing', async () => {
    const t = await startTestApp({ OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });
    try {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(503);
      expect(res.body).toEqual({ statusCode: 503, message: 'OpenAI client not initialized', error: 'Service Unavailable' });
      await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'hi' }).expect(503);
      expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('sends AI_SYSTEM_PROMPT first and retries a 500 before answering 502', async () => {
    const fake = await startFakeLlm();
    const t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_SYSTEM_PROMPT: 'You are terse.', OPENAI_MAX_RETRIES: '1' });
    try {
      const user = await registerUser(t);
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(201);
      expect(fake.chatRequests()[0].body.messages).toEqual([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'hi' },
      ]);
      fake.reset();
      fake.enqueue({ status: 500, headers: { 'retry-after-ms': '10' } }, { status: 503, headers: { 'retry-after-ms': '10' } });
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'again' }).expect(502);
      expect(fake.chatRequests()).toHaveLength(2);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it('answers 504 when the upstream hangs past OPENAI_TIMEOUT_MS', async () => {
    const fake = await startFakeLlm();
    const t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_TIMEOUT_MS: '300' });
    try {
      const user = await registerUser(t);
      fake.enqueue({ hang: true });
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi' }).expect(504);
      expect(res.body).toEqual({ statusCode: 504, message: 'The AI provider timed out', error: 'Gateway Timeout' });
      await fake.waitFor((f) => f.abortCount() === 1);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
