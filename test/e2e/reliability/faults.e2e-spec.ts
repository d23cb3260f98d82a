import { AppProcess, startAppProcess } from '../../support/app-process';
import { openTestDb } from '../../support/db';
import { eventually } from '../../support/eventually';
import { FakeLlm, startFakeLlm } from '../../support/fake-llm.mjs';
import { registerUser } from '../../support/factories';
import type { Json } from '../../support/json';
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
  call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Json }>;
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
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
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
  let fake: FakeLlm;
  let redis: RedisServer;
  let app: AppProcess;

  beforeAll(async () => {
    fake = await startFakeLlm();
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
      const queued = await eventually(
        async () => {
          const res = await a.call('POST', '/ai/jobs/embeddings', user.token, { text: 'after the outage' });
          return res.status === 202 ? res : undefined;
        },
        10_000,
        250,
      );
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

describe('PostgreSQL outage (e2e)', () => {
  const APP_NAME = 'reliability-pg-outage';
  let fake: FakeLlm;
  let proxy: TcpProxy;
  let app: AppProcess;

  beforeAll(async () => {
    fake = await startFakeLlm();
    const direct = new URL(process.env.TEST_DATABASE_URL!);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    viaProxy.searchParams.set('application_name', APP_NAME);
    app = await startAppProcess({ DATABASE_URL: viaProxy.toString(), OPENAI_BASE_URL: fake.baseUrl });
  });
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await fake?.close();
  });

  it('answers 503 at once while PostgreSQL is unreachable, never calls the upstream, and recovers when it is back', async () => {
    const a = api(app.url);
    const user = await register(a);
    const first = await a.call('POST', '/ai/chat', user.token, { message: 'before the outage' });
    expect(first.status).toBe(201);
    const socket = await connectSocket(app.url, user.token);
    const events = recordEvents(socket);
    try {
      await proxy.cut();
      fake.reset();

      const health = await timed(() => a.call('GET', '/health'));
      expect(health.value).toEqual({ status: 503, body: { statusCode: 503, message: 'Unhealthy: database down', error: 'Service Unavailable' } });
      expect(health.ms).toBeLessThan(FAST_MS);
      const calls: Array<[string, string, unknown?]> = [
        ['GET', '/auth/me'],
        ['POST', '/ai/chat', { message: 'during the outage' }],
        ['POST', '/ai/chat', { message: 'during the outage', conversationId: first.body.conversationId }],
        ['POST', '/ai/embeddings', { text: 'during the outage' }],
        ['POST', '/ai/jobs/completion', { message: 'during the outage' }],
        ['GET', '/ai/conversations'],
        ['GET', `/ai/conversations/${first.body.conversationId}`],
        ['DELETE', `/ai/conversations/${first.body.conversationId}`],
        ['GET', '/ai/usage'],
        ['POST', '/auth/login', { email: 'nobody@example.com', password: 'whatever it is' }],
      ];
      for (const [method, path, body] of calls) {
        const res = await timed(() => a.call(method, path, ['/auth/login'].includes(path) ? undefined : user.token, body));
        expect([method, path, res.value]).toEqual([method, path, { status: 503, body: unavailable }]);
        expect(res.ms).toBeLessThan(FAST_MS);
      }
      socket.emit('chat:start', { message: 'stream during the outage' });
      expect(await waitForTerminal(events, FAST_MS)).toEqual({ event: 'chat:error', data: { message: 'Service temporarily unavailable', code: 503 } });
      expect(fake.requests).toHaveLength(0);

      await proxy.restore();
      await eventually(async () => (await a.call('GET', '/health')).status === 200, 15_000, 200);
      expect((await a.call('GET', '/auth/me', user.token)).status).toBe(200);
      expect((await a.call('POST', '/ai/chat', user.token, { message: 'after the outage', conversationId: first.body.conversationId })).status).toBe(201);
      events.length = 0;
      socket.emit('chat:start', { message: 'stream after the outage' });
      expect((await waitForTerminal(events)).event).toBe('chat:end');
      const conversation = await a.call('GET', `/ai/conversations/${first.body.conversationId}`, user.token);
      // The turn of the outage was refused before anything was stored; nothing was lost either.
      expect(conversation.body.messages.map((m: { content: string }) => m.content)).toEqual([
        'before the outage',
        'Echo: before the outage',
        'after the outage',
        'Echo: after the outage',
      ]);
      expect(app.child.exitCode).toBeNull();
    } finally {
      socket.close();
    }
  });

  it('answers 503 within 5 s through a network partition (connections open, no byte gets through), and recovers', async () => {
    const a = api(app.url);
    const user = await register(a);
    // Several pooled connections, which the partition then freezes mid-life.
    await Promise.all(Array.from({ length: 5 }, () => a.call('GET', '/ai/conversations', user.token)));
    proxy.freeze();
    try {
      const results = await Promise.all(Array.from({ length: 3 }, () => timed(() => a.call('GET', '/ai/conversations', user.token))));
      for (const { value, ms } of results) {
        expect(value).toEqual({ status: 503, body: unavailable });
        expect(ms).toBeLessThan(6_500);
      }
    } finally {
      await proxy.restore();
    }
    await eventually(async () => (await a.call('GET', '/ai/conversations', user.token)).status === 200, 10_000, 100);
    expect(app.child.exitCode).toBeNull();
  });

  it('recovers at once when the server terminates its connections (pg_terminate_backend)', async () => {
    const a = api(app.url);
    const user = await register(a);
    // Several concurrent requests so that the pool holds several connections.
    await Promise.all(Array.from({ length: 5 }, () => a.call('GET', '/ai/conversations', user.token)));
    const db = openTestDb();
    try {
      const terminated = await db.$queryRaw<Array<{ pid: number }>>`
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = ${APP_NAME} AND pid <> pg_backend_pid()`;
      expect(terminated.length).toBeGreaterThan(0);
      await db.$queryRaw`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = ${APP_NAME} AND pid <> pg_backend_pid()`;
      // Dead pooled connections are dropped and replaced: no 500, and service is back at once.
      const statuses = await Promise.all(Array.from({ length: 10 }, () => a.call('GET', '/ai/conversations', user.token).then((r) => r.status)));
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      await eventually(async () => (await a.call('GET', '/auth/me', user.token)).status === 200, 5_000, 100);
      expect((await a.call('POST', '/ai/chat', user.token, { message: 'after the terminations' })).status).toBe(201);
      expect(app.child.exitCode).toBeNull();
    } finally {
      await db.$disconnect();
    }
  });
});
