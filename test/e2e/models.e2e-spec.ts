import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { baseTestEnv } from '../support/test-env';
import { connectSocket, recordEvents, waitForTerminal } from '../support/ws-client';

const dir = mkdtempSync(join(tmpdir(), 'models-e2e-'));
const writeModels = (name: string, models: object[]) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ models }));
  return path;
};

describe('model registry (e2e)', () => {
  describe('default registry', () => {
    let fake: FakeLlm;
    let t: TestApp;
    beforeAll(async () => {
      fake = await startFakeLlm();
      t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl });
    });
    afterAll(async () => {
      await t.close();
      await fake.close();
    });
    beforeEach(() => fake.reset());

    it("GET /ai/models lists OpenAI's models with catalogue facts and marks the defaults", async () => {
      const user = await registerUser(t);
      const { body } = await t.http.get('/api/v1/ai/models').set(user.auth).expect(200);
      expect(body.map((m: { id: string }) => m.id)).toEqual([
        'gpt-4',
        'text-embedding-3-small',
        'gpt-4o',
        'gpt-4o-mini',
        'gpt-4.1',
        'gpt-5',
        'gpt-3.5-turbo',
        'text-embedding-3-large',
        'text-embedding-ada-002',
      ]);
      expect(body[0]).toEqual({
        id: 'gpt-4',
        provider: 'openai',
        contextWindow: 8192,
        maxOutputTokens: 8192,
        pricing: { inputPerMTok: 30, outputPerMTok: 60 },
        capabilities: ['chat'],
        default: true,
      });
      expect(body[1]).toMatchObject({ id: 'text-embedding-3-small', capabilities: ['embeddings'], default: true });
      expect(body.filter((m: { default: boolean }) => m.default)).toHaveLength(2);
      await t.http.get('/api/v1/ai/models').expect(401);
    });

    it('refuses a model the registry does not list with 400 everywhere, sending nothing upstream and storing nothing', async () => {
      const user = await registerUser(t);
      const refused = (res: { body: { statusCode: number; message: string } }) => {
        expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('model gpt-9 is not available') });
      };
      refused(await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi', model: 'gpt-9' }).expect(400));
      refused(await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'hi', model: 'gpt-9' }).expect(400));
      refused(await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'hi', model: 'gpt-9' }).expect(400));
      refused(await t.http.post('/api/v1/ai/jobs/embeddings').set(user.auth).send({ text: 'hi', model: 'gpt-9' }).expect(400));
      // A model of the wrong kind is refused the same way.
      const wrongKind = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi', model: 'text-embedding-3-small' }).expect(400);
      expect(wrongKind.body.message).toContain('model text-embedding-3-small is not available for chat');

      const socket = await connectSocket(t.url, user.accessToken);
      try {
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: 'hi', model: 'gpt-9' });
        await expect(waitForTerminal(events)).resolves.toEqual({
          event: 'chat:error',
          data: { code: 400, message: expect.stringContaining('model gpt-9 is not available') },
        });
        expect(events).toHaveLength(1);
      } finally {
        socket.close();
      }
      expect(fake.requests).toEqual([]);
      expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
      expect(await t.prisma.usageRecord.count({ where: { userId: user.id } })).toBe(0);
      const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(me.body.totalTokensUsed).toBe(0);
    });
  });

  describe('AI_MODELS_FILE', () => {
    let fake: FakeLlm;
    let t: TestApp;
    let user: TestUser;
    beforeAll(async () => {
      fake = await startFakeLlm();
      const modelsFile = writeModels('models.json', [
        { id: 'fast', provider: 'openai', upstreamModel: 'gpt-4o-mini' },
        { id: 'house-embed', provider: 'openai', upstreamModel: 'text-embedding-3-small', capabilities: ['embeddings'], pricing: null },
        { id: 'claude', provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5' },
        { id: 'house', provider: 'openai', upstreamModel: 'gpt-4o', pricing: { inputPerMTok: 2, outputPerMTok: 8 } },
      ]);
      t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_MODELS_FILE: modelsFile, OPENAI_MODEL: 'fast', OPENAI_EMBEDDING_MODEL: 'house-embed' });
      user = await registerUser(t);
    });
    afterAll(async () => {
      await t.close();
      await fake.close();
    });
    beforeEach(() => fake.reset());

    it("lists only the file's models whose provider is on", async () => {
      const { body } = await t.http.get('/api/v1/ai/models').set(user.auth).expect(200);
      expect(body).toEqual([
        {
          id: 'fast',
          provider: 'openai',
          contextWindow: 128000,
          maxOutputTokens: 16384,
          pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
          capabilities: ['chat'],
          default: true,
        },
        { id: 'house-embed', provider: 'openai', contextWindow: null, maxOutputTokens: null, pricing: null, capabilities: ['embeddings'], default: true },
        {
          id: 'house',
          provider: 'openai',
          contextWindow: 128000,
          maxOutputTokens: 16384,
          pricing: { inputPerMTok: 2, outputPerMTok: 8 },
          capabilities: ['chat'],
          default: false,
        },
      ]);
    });

    it('sends the upstream its model name and names the registry id in responses and stored messages', async () => {
      fake.enqueue({ content: 'Quick answer.', usage: { total_tokens: 7 } });
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hello' }).expect(201);
      expect(res.body).toMatchObject({ model: 'fast', content: 'Quick answer.', tokens: 7 });
      expect(fake.chatRequests()[0].body.model).toBe('gpt-4o-mini');
      const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: res.body.messageId } });
      expect(stored.model).toBe('fast');

      const socket = await connectSocket(t.url, user.accessToken);
      try {
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: 'stream it', model: 'fast' });
        const end = await waitForTerminal(events);
        expect(end).toEqual({ event: 'chat:end', data: expect.objectContaining({ model: 'fast' }) });
      } finally {
        socket.close();
      }
      expect(fake.chatRequests()[1].body).toMatchObject({ model: 'gpt-4o-mini', stream: true });

      const embedding = await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'embed me' }).expect(200);
      expect(embedding.body.model).toBe('house-embed');
      expect(fake.embeddingRequests()[0].body.model).toBe('text-embedding-3-small');
    });

    it("prices every call at the file's prices: response, chat:end, message, conversation, usage and /metrics", async () => {
      const priced = await registerUser(t);
      // $2 / $8 per million tokens: 1,000 × 2 + 500 × 8 = 6,000 millionths; then 200 × 2 + 100 × 8 = 1,200.
      fake.enqueue({ content: 'Priced.', usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } });
      const res = await t.http.post('/api/v1/ai/chat').set(priced.auth).send({ message: 'price me', model: 'house' }).expect(201);
      expect(res.body).toMatchObject({ model: 'house', tokens: 1500, costUsd: 0.006 });
      const message = await t.prisma.message.findUniqueOrThrow({ where: { id: res.body.messageId } });
      expect([message.promptTokens, message.completionTokens, message.tokens, message.costUsd]).toEqual([1000, 500, 1500, 0.006]);

      fake.enqueue({ chunks: ['priced ', 'stream'], usage: { prompt_tokens: 200, completion_tokens: 100, total_tokens: 300 } });
      const socket = await connectSocket(t.url, priced.accessToken);
      try {
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: 'again', model: 'house', conversationId: res.body.conversationId });
        await expect(waitForTerminal(events)).resolves.toEqual({
          event: 'chat:end',
          data: expect.objectContaining({ model: 'house', totalTokens: 300, costUsd: 0.0012 }),
        });
      } finally {
        socket.close();
      }
      const conversation = await t.http.get(`/api/v1/ai/conversations/${res.body.conversationId}`).set(priced.auth).expect(200);
      expect(conversation.body.totalCostUsd).toBe(0.0072);
      const usage = await t.http.get('/api/v1/ai/usage').set(priced.auth).expect(200);
      expect(usage.body).toMatchObject({
        totalTokens: 1800,
        totalCostUsd: 0.0072,
        byModel: [{ model: 'house', requests: 2, promptTokens: 1200, completionTokens: 600, totalTokens: 1800, costUsd: 0.0072 }],
      });
      const metrics = await t.http.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/ai_cost_usd_total\{[^}]*model="house"[^}]*\} 0\.0072/);
    });

    it("refuses a listed model whose provider is off with 503 naming the provider's client, sending nothing", async () => {
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi', model: 'claude' }).expect(503);
      expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Anthropic client not initialized' });
      expect(fake.requests).toEqual([]);
    });
  });

  it('stops the process at start-up with one line naming AI_MODELS_FILE when the file cannot be used', async () => {
    const modelsFile = writeModels('bad.json', [{ id: 'x', provider: 'mistral' }]);
    const env = { ...process.env, ...baseTestEnv({ AI_MODELS_FILE: modelsFile, PORT: '0' }) };
    const child = spawn(process.execPath, ['-r', './test/support/ts-register.cjs', 'src/main.ts'], {
      cwd: join(__dirname, '..', '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toBe(
      `Invalid environment variable AI_MODELS_FILE: ${modelsFile}: models.0.provider: provider must be one of the following values: openai, anthropic, gemini\n`,
    );
    expect(stdout).toBe('');
  });
});

describe('context fitting (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  // 200 tokens of context, 50 of them kept for the answer: prompts get 150.
  beforeAll(async () => {
    fake = await startFakeLlm();
    const modelsFile = writeModels('tiny.json', [
      { id: 'tiny', provider: 'openai', upstreamModel: 'gpt-4o-mini', contextWindow: 200, maxOutputTokens: 50 },
      { id: 'embed', provider: 'openai', upstreamModel: 'text-embedding-3-small', capabilities: ['embeddings'] },
    ]);
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_MODELS_FILE: modelsFile, OPENAI_MODEL: 'tiny', OPENAI_EMBEDDING_MODEL: 'embed' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  // 31 tokens each with OpenAI's tokenizer: the label (2), then 29 words.
  const words = (label: string) => `${label} ${'word '.repeat(28)}word`;

  it('cuts the history oldest first to the window, keeps the new question, and stores each message’s length', async () => {
    const user = await registerUser(t);
    const answer = (content: string) => ({ content, usage: { prompt_tokens: 40, completion_tokens: 30, total_tokens: 70 } });
    fake.enqueue(answer('a1'), answer('a2'), answer('a3'));
    const first = await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ message: words('q1') })
      .expect(201);
    const conversationId = first.body.conversationId as string;
    await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ message: words('q2'), conversationId })
      .expect(201);
    await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ message: words('q3'), conversationId })
      .expect(201);

    // Framing 3 + 4 per message. q3: 38; then a2 (34), q2 (35), a1 (34): 141 ≤ 150; q1 would make 176.
    const third = fake.chatRequests()[2].body as { messages: { content: string }[]; max_tokens: number };
    expect(third.messages.map((m) => m.content.split(' ')[0])).toEqual(['a1', 'q2', 'a2', 'q3']);
    expect(third.max_tokens).toBe(50);
    const stored = await t.prisma.message.findMany({ where: { conversationId }, orderBy: { createdAt: 'asc' } });
    expect(stored.map((m) => [m.role, m.contentTokens])).toEqual([
      ['USER', 31],
      ['ASSISTANT', 30],
      ['USER', 31],
      ['ASSISTANT', 30],
      ['USER', 31],
      ['ASSISTANT', 30],
    ]);
  });

  it('refuses with 400 a question that alone does not fit, sending nothing and storing nothing', async () => {
    const user = await registerUser(t);
    const res = await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ message: 'word '.repeat(200) })
      .expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringMatching(/^message is too long for model tiny: \d+ tokens with the system prompt, 150 left by its context window after maxTokens$/),
    });
    expect(fake.requests).toEqual([]);
    expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
  });
});
