import { AppProcess, startAppProcess } from '../../support/app-process';
import { openTestDb } from '../../support/db';
import { eventually } from '../../support/eventually';
import { FakeOpenAi, startFakeOpenAi } from '../../support/fake-openai.mjs';
import { registerUser } from '../../support/factories';
import { RedisServer, startRedisServer } from '../../support/redis-server';
import { startTcpProxy, TcpProxy } from '../../support/tcp-proxy';
import { startTestApp, TestApp } from '../../support/test-app';
import { connectSocket, recordEvents, streamedText, waitForEvent, waitForTerminal } from '../../support/ws-client';

// Faults of the upstream and of the two dependencies. Already proven elsewhere (see docs/reliability.md):
// upstream 4xx/429/500 mapping and user message kept (ai-chat), 504 on a hang (ai-chat), a dropped
// stream stored as `failed` (gateway), SIGTERM mid-stream (ops).

const unavailable = { statusCode: 503, message: 'Service temporarily unavailable', error: 'Service Unavailable' };
// "Fail fast": well under the 2 s health-check timeout and any client's patience.
const FAST_MS = 2_500;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = Date.now();
  const value = await work();
  return { value, ms: Date.now() - startedAt };
}

interface Api {
  url: string;
  call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }>;
}

function api(url: string): Api {
  return {
    url,
    async call(method, path, token, body) {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

async function register(a: Api): Promise<{ id: string; token: string }> {
  const res = await a.call('POST', '/auth/register', undefined, { email: `fault-${Math.random().toString(36).slice(2)}@example.com`, password: 'correct horse battery' });
  expect(res.status).toBe(201);
  return { id: res.body.user.id, token: res.body.accessToken };
}

describe('upstream faults (e2e)', () => {
  let fake: FakeOpenAi;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_MAX_RETRIES: '2', OPENAI_TIMEOUT_MS: '400' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('retries an upstream 500 OPENAI_MAX_RETRIES times, then answers 502 keeping the user message and counting nothing', async () => {
    const user = await registerUser(t);
    const down = { status: 500, headers: { 'retry-after-ms': '5' } };
    fake.enqueue(down, down, down);
    const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'are you there?' }).expect(502);
    expect(res.body).toEqual({ statusCode: 502, message: 'The AI provider is unavailable', error: 'Bad Gateway' });
    expect(fake.chatRequests()).toHaveLength(3);
    const messages = await t.prisma.message.findMany({ where: { conversation: { userId: user.id } } });
    expect(messages.map((m) => [m.role, m.content])).toEqual([['USER', 'are you there?']]);
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed).toBe(0);
  });

  it('ends a stream whose upstream stalls mid-answer with chat:error 504 after OPENAI_TIMEOUT_MS and stores the partial answer as failed', async () => {
    const user = await registerUser(t);
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      fake.enqueue({ chunks: ['first ', 'words ', 'then silence'], chunkDelayMs: 10_000 });
      socket.emit('chat:start', { message: 'stall please' });
      await waitForEvent(events, 'chat:message');
      const { value: terminal, ms } = await timed(() => waitForTerminal(events, 5_000));
      expect(terminal).toEqual({ event: 'chat:error', data: { message: 'The AI provider timed out', code: 504 } });
      expect(ms).toBeLessThan(2_000);
      await fake.waitFor((f) => f.abortCount() === 1);
      const stored = await t.prisma.message.findFirstOrThrow({ where: { role: 'ASSISTANT', conversation: { userId: user.id } } });
      expect(stored).toMatchObject({ status: 'failed', content: streamedText(events), tokens: null });
    } finally {
      socket.close();
    }
  });
});

describe('Redis outage (e2e)', () => {
  let fake: FakeOpenAi;
  let redis: RedisServer;
  let app: AppProcess;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    redis = await startRedisServer();
    app = await startAppProcess({ REDIS_URL: redis.url, OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '100' });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
    await fake?.close();
  });

  it('answers health 503 and AI calls 503 at once while Redis is down, keeps serving the rest, and recovers when Redis is back', async () => {
    const a = api(app.url);
    const user = await register(a);
    const conversation = await a.call('POST', '/ai/chat', user.token, { message: 'before the outage' });
    expect(conversation.status).toBe(201);
    const socket = await connectSocket(app.url, user.token);
    const events = recordEvents(socket);
    const db = openTestDb();
    try {
      await redis.stop();

      const health = await timed(() => a.call('GET', '/health'));
      expect(health.value).toEqual({ status: 503, body: { statusCode: 503, message: 'Unhealthy: redis down', error: 'Service Unavailable' } });
      expect(health.ms).toBeLessThan(FAST_MS);
      fake.reset();
      for (const [path, body] of [
        ['/ai/chat', { message: 'during the outage' }],
        ['/ai/embeddings', { text: 'during the outage' }],
        ['/ai/jobs/completion', { message: 'during the outage' }],
        ['/ai/jobs/embeddings', { text: 'during the outage' }],
      ] as const) {
        const res = await timed(() => a.call('POST', path, user.token, body));
        expect([path, res.value]).toEqual([path, { status: 503, body: unavailable }]);
        expect(res.ms).toBeLessThan(FAST_MS);
      }
      const job = await timed(() => a.call('GET', `/ai/jobs/${crypto.randomUUID()}`, user.token));
      expect(job.value).toEqual({ status: 503, body: unavailable });
      expect(job.ms).toBeLessThan(FAST_MS);
      socket.emit('chat:start', { message: 'stream during the outage' });
      expect(await waitForTerminal(events, FAST_MS)).toEqual({ event: 'chat:error', data: { message: 'Service temporarily unavailable', code: 503 } });
      // Routes that need PostgreSQL only go on working.
      expect((await a.call('GET', '/ai/conversations', user.token)).status).toBe(200);
      expect((await a.call('GET', `/ai/conversations/${conversation.body.conversationId}`, user.token)).status).toBe(200);
      expect(fake.requests).toHaveLength(0);
      expect(await db.message.count({ where: { conversation: { userId: user.id } } })).toBe(2);

      await redis.start();
      await eventually(async () => (await a.call('GET', '/health')).status === 200, 15_000, 200);
      expect((await a.call('POST', '/ai/chat', user.token, { message: 'after the outage' })).status).toBe(201);
      // Bull's own connections come back on their own retry schedule (at most 2 s apart).
      const queued = await eventually(async () => {
        const res = await a.call('POST', '/ai/jobs/embeddings', user.token, { text: 'after the outage' });
        return res.status === 202 ? res : undefined;
      }, 10_000, 250);
      await eventually(async () => (await a.call('GET', `/ai/jobs/${queued.body.jobId}`, user.token)).body.state === 'completed', 15_000, 100);
      events.length = 0;
      socket.emit('chat:start', { message: 'stream after the outage' });
      expect((await waitForTerminal(events)).event).toBe('chat:end');
      expect(app.child.exitCode).toBeNull();
    } finally {
      socket.close();
      await db.$disconnect();
    }
  });
});
