import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { freePort } from '../support/app-process';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, waitForEvent, waitForTerminal } from '../support/ws-client';

const dir = mkdtempSync(join(tmpdir(), 'providers-e2e-'));
const modelsFile = (models: object[]) => {
  const path = join(dir, `models-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ models }));
  return path;
};
const MODELS = [
  { id: 'gpt', provider: 'openai', upstreamModel: 'gpt-4o-mini' },
  { id: 'embed', provider: 'openai', upstreamModel: 'text-embedding-3-small', capabilities: ['embeddings'] },
  { id: 'claude', provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5', fallbacks: ['gpt'] },
  { id: 'gemini', provider: 'gemini', upstreamModel: 'gemini-2.5-flash', fallbacks: ['gpt'] },
];
const requestsOf = (fake: FakeLlm, provider: 'anthropic' | 'gemini') => (provider === 'anthropic' ? fake.anthropicRequests() : fake.geminiRequests());

describe('Anthropic and Gemini providers (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      OPENAI_BASE_URL: fake.baseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test-key-0123456789',
      ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      GEMINI_API_KEY: 'gemini-test-key-0123456789',
      GEMINI_BASE_URL: fake.geminiBaseUrl,
      AI_MODELS_FILE: modelsFile(MODELS),
      OPENAI_MODEL: 'gpt',
      OPENAI_EMBEDDING_MODEL: 'embed',
      AI_SYSTEM_PROMPT: 'Be brief.',
      OPENAI_MAX_TOKENS: '500',
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const chat = (user: TestUser, body: object) => t.http.post('/api/v1/ai/chat').set(user.auth).send(body);

  describe.each([
    ['claude', 'anthropic', 'claude-sonnet-4-5'],
    ['gemini', 'gemini', 'gemini-2.5-flash'],
  ] as const)('%s (%s)', (modelId, provider, upstreamModel) => {
    it('answers a REST chat through its SDK: system prompt apart, history in turns, the provider’s usage counted', async () => {
      const user = await registerUser(t);
      fake.enqueue({ content: 'First answer.', usage: { prompt_tokens: 11, completion_tokens: 4 } });
      const first = await chat(user, { message: 'First question', model: modelId, temperature: 0.5 }).expect(201);
      expect(first.body).toMatchObject({ content: 'First answer.', model: modelId, tokens: 15 });
      fake.enqueue({ content: 'Second answer.', usage: { prompt_tokens: 20, completion_tokens: 5 } });
      await chat(user, { message: 'Second question', model: modelId, conversationId: first.body.conversationId, maxTokens: 64 }).expect(201);

      const [, second] = requestsOf(fake, provider);
      if (provider === 'anthropic') {
        expect(second.body).toEqual({
          model: upstreamModel,
          max_tokens: 64,
          temperature: 0.7,
          system: 'Be brief.',
          messages: [
            { role: 'user', content: 'First question' },
            { role: 'assistant', content: 'First answer.' },
            { role: 'user', content: 'Second question' },
          ],
        });
        expect(second.headers.authorization).toBe('Bearer sk-ant-test-key-0123456789');
      } else {
        expect(second.path).toBe(`/v1beta/models/${upstreamModel}:generateContent`);
        expect(second.body).toMatchObject({
          contents: [
            { role: 'user', parts: [{ text: 'First question' }] },
            { role: 'model', parts: [{ text: 'First answer.' }] },
            { role: 'user', parts: [{ text: 'Second question' }] },
          ],
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          generationConfig: { maxOutputTokens: 64, temperature: 0.7 },
        });
        expect(second.headers['x-goog-api-key']).toBe('gemini-test-key-0123456789');
      }
      expect(fake.chatRequests()).toEqual([]);
      const stored = await t.prisma.message.findMany({ where: { conversationId: first.body.conversationId, role: 'ASSISTANT' }, orderBy: { createdAt: 'asc' } });
      expect(stored.map((m) => [m.model, m.tokens])).toEqual([
        [modelId, 15],
        [modelId, 25],
      ]);
      const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(me.body.totalTokensUsed).toBe(40);
    });

    it('streams over the socket in order and ends with the provider’s usage', async () => {
      const user = await registerUser(t);
      fake.enqueue({ chunks: ['Hel', 'lo ', 'there'], usage: { prompt_tokens: 7, completion_tokens: 3 } });
      const socket = await connectSocket(t.url, user.accessToken);
      try {
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: 'stream please', model: modelId });
        const end = await waitForTerminal(events);
        expect(events.map((e) => e.event)).toEqual(['chat:conversation', 'chat:user-message', 'chat:message', 'chat:message', 'chat:message', 'chat:end']);
        expect(
          events
            .filter((e) => e.event === 'chat:message')
            .map((e) => (e.data as { content: string }).content)
            .join(''),
        ).toBe('Hello there');
        expect(end.data).toMatchObject({ totalTokens: 10, model: modelId });
      } finally {
        socket.close();
      }
      const [request] = requestsOf(fake, provider);
      expect(provider === 'anthropic' ? request.body.stream : request.query.alt).toBe(provider === 'anthropic' ? true : 'sse');
    });

    it.each(['chat:stop', 'disconnect'] as const)('on %s aborts the upstream request and keeps the partial answer', async (how) => {
      const user = await registerUser(t);
      fake.enqueue({ chunks: ['one ', 'two ', 'three ', 'four ', 'five '], chunkDelayMs: 150 });
      const socket = await connectSocket(t.url, user.accessToken);
      const events = recordEvents(socket);
      socket.emit('chat:start', { message: 'long answer', model: modelId });
      await waitForEvent(events, 'chat:message');
      if (how === 'chat:stop') {
        socket.emit('chat:stop');
        const stopped = await waitForTerminal(events);
        expect(stopped.event).toBe('chat:stopped');
        socket.close();
      } else {
        socket.close();
      }
      await eventually(() => requestsOf(fake, provider)[0]?.aborted === true);
      const answer = await eventually(() => t.prisma.message.findFirst({ where: { conversation: { userId: user.id }, role: 'ASSISTANT' } }));
      expect(answer.status).toBe('stopped');
      expect(answer.content.startsWith('one ')).toBe(true);
      expect(answer.content.length).toBeLessThan('one two three four five '.length);
    });

    it('runs a completion job through the provider', async () => {
      const user = await registerUser(t);
      fake.enqueue({ content: 'From a job.', usage: { prompt_tokens: 3, completion_tokens: 3 } });
      const queued = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'job please', model: modelId }).expect(202);
      const status = await eventually(async () => {
        const res = await t.http.get(`/api/v1/ai/jobs/${queued.body.jobId}`).set(user.auth).expect(200);
        return res.body.state === 'completed' ? res.body : undefined;
      });
      expect(status.result).toMatchObject({ content: 'From a job.', model: modelId, tokens: 6 });
      expect(requestsOf(fake, provider)).toHaveLength(1);
    });

    it('maps a request the upstream rejects to 400 with its message, and tries no other model', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 400, error: { message: 'refused with 400' } });
      const res = await chat(user, { message: 'hi', model: modelId }).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'refused with 400' });
      expect(requestsOf(fake, provider)).toHaveLength(1);
      expect(fake.chatRequests()).toEqual([]);
    });

    it('answers 429 when it and its fallback are both rate limited', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 429, error: { message: 'slow down' } }, { status: 429, error: { message: 'slow down too' } });
      const res = await chat(user, { message: 'hi', model: modelId }).expect(429);
      expect(res.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: 'The AI provider is rate limiting requests; retry later' });
      expect([requestsOf(fake, provider).length, fake.chatRequests().length]).toEqual([1, 1]);
    });
  });

  describe('fallbacks', () => {
    it('answers with the next model of the list when the chosen one fails before its first token, and says so in /metrics', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 529, error: { message: 'Overloaded' } }, { content: 'Answered by GPT.', usage: { total_tokens: 9 } });
      const res = await chat(user, { message: 'hi', model: 'claude' }).expect(201);
      expect(res.body).toMatchObject({ model: 'gpt', content: 'Answered by GPT.', tokens: 9 });
      expect(fake.anthropicRequests()).toHaveLength(1);
      expect(fake.chatRequests()[0].body.model).toBe('gpt-4o-mini');
      const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: res.body.messageId } });
      expect(stored.model).toBe('gpt');
      const metrics = await t.http.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/ai_fallbacks_total\{[^}]*from="claude"[^}]*to="gpt"[^}]*\} [1-9]/);
    });

    it('falls back on the socket too, and chat:end names the model that answered', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 503, error: { message: 'Unavailable' } }, { chunks: ['fall', 'back'] });
      const socket = await connectSocket(t.url, user.accessToken);
      try {
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: 'hi', model: 'gemini' });
        const end = await waitForTerminal(events);
        expect(end).toEqual({ event: 'chat:end', data: expect.objectContaining({ model: 'gpt' }) });
      } finally {
        socket.close();
      }
      expect(fake.geminiRequests()).toHaveLength(1);
      expect(fake.chatRequests()).toHaveLength(1);
    });

    it('does not fall back once the first token has arrived: the stream fails and keeps what was shown', async () => {
      const user = await registerUser(t);
      fake.enqueue({ chunks: ['partial ', 'answer ', 'lost'], dropAfterChunks: 1 });
      const socket = await connectSocket(t.url, user.accessToken);
      try {
        const events = recordEvents(socket);
        socket.emit('chat:start', { message: 'hi', model: 'claude' });
        const terminal = await waitForTerminal(events);
        expect(terminal).toEqual({ event: 'chat:error', data: { code: 502, message: 'The AI provider is unavailable' } });
      } finally {
        socket.close();
      }
      expect(fake.chatRequests()).toEqual([]);
      const answer = await t.prisma.message.findFirstOrThrow({ where: { conversation: { userId: user.id }, role: 'ASSISTANT' } });
      expect([answer.status, answer.content, answer.tokens]).toEqual(['failed', 'partial ', null]);
    });
  });
});

describe('fallback on a refused connection (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeLlm();
    const closedPort = await freePort();
    t = await startTestApp({
      OPENAI_BASE_URL: fake.baseUrl,
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${closedPort}`,
      AI_MODELS_FILE: modelsFile(MODELS.filter((m) => m.provider !== 'gemini')),
      OPENAI_MODEL: 'gpt',
      OPENAI_EMBEDDING_MODEL: 'embed',
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('tries the fallback when the chosen provider refuses the connection', async () => {
    const user = await registerUser(t);
    fake.enqueue({ content: 'Still answered.' });
    const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi', model: 'claude' }).expect(201);
    expect(res.body).toMatchObject({ model: 'gpt', content: 'Still answered.' });
  });
});
