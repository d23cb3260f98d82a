import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { AppProcess, startAppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { registerUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { TEST_OPENAI_KEY } from '../support/test-env';
import { connectSocket, recordEvents, streamedText, waitForEvent, waitForTerminal } from '../support/ws-client';

// Sum of the samples of one metric whose labels include all of `labels`.
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0];
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(line.split(' ').at(-1));
  }
  return total;
}

describe('GET /metrics (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  const scrape = async () => (await t.http.get('/metrics').expect(200)).text;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('is public Prometheus text with the default process metrics', async () => {
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^process_cpu_user_seconds_total/m);
    expect(res.text).toMatch(/^nodejs_heap_size_used_bytes/m);
    await t.http.get('/api/v1/metrics').expect(404);
  });

  it("carries helmet's security headers on API answers, errors included", async () => {
    for (const res of [await t.http.get('/api/v1/health'), await t.http.get('/api/v1/auth/me').expect(401)]) {
      expect(res.headers).toMatchObject({
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('moves the HTTP, AI latency and token metrics with a chat, labelled by route template', async () => {
    const user = await registerUser(t);
    const before = await scrape();
    fake.enqueue({ usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } });
    const chat = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'count me' }).expect(201);
    await t.http.get(`/api/v1/ai/conversations/${chat.body.conversationId}`).set(user.auth).expect(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('ai_tokens_total', { model: 'gpt-4', kind: 'prompt' })).toBe(11);
    expect(delta('ai_tokens_total', { model: 'gpt-4', kind: 'completion' })).toBe(7);
    expect(delta('ai_request_duration_seconds_count', { model: 'gpt-4', transport: 'rest', kind: 'completion', outcome: 'ok' })).toBe(1);
    expect(delta('http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/ai/chat', status: '201' })).toBe(1);
    expect(delta('http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/ai/conversations/:id', status: '200' })).toBe(1);
    // Bounded labels: no raw ids, no user ids.
    expect(after).not.toContain(chat.body.conversationId);
    expect(after).not.toContain(user.id);
  });

  it('counts embedding tokens, mapped upstream errors and rate-limit rejections', async () => {
    const user = await registerUser(t);
    const before = await scrape();
    await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'abcdefgh' }).expect(200);
    fake.enqueue({ status: 429, headers: { 'retry-after': '0' } });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'limited upstream' }).expect(429);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'ok' }).expect(201);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'over our limit' }).expect(429);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('ai_tokens_total', { kind: 'embedding', model: 'text-embedding-3-small' })).toBe(2);
    expect(delta('ai_upstream_errors_total', { code: 'LLM_RATE_LIMITED' })).toBe(1);
    expect(delta('rate_limit_rejections_total', { bucket: 'ai' })).toBe(1);
  });

  it('moves the connection and stream gauges and the time-to-first-token histogram', async () => {
    const user = await registerUser(t);
    const base = metricValue(await scrape(), 'ws_connections');
    const socket = await connectSocket(t.url, user.accessToken);
    const events = recordEvents(socket);
    await eventually(async () => metricValue(await scrape(), 'ws_connections') === base + 1);
    fake.enqueue({ chunks: ['a', 'b', 'c', 'd', 'e', 'f'], chunkDelayMs: 100 });
    socket.emit('chat:start', { message: 'stream' });
    await waitForEvent(events, 'chat:message');
    expect(metricValue(await scrape(), 'ai_active_streams')).toBe(1);
    await waitForTerminal(events);
    // The gauge drops once the turn's bookkeeping after its terminal event has run.
    await eventually(async () => metricValue(await scrape(), 'ai_active_streams') === 0);
    const text = await scrape();
    expect(metricValue(text, 'ai_active_streams')).toBe(0);
    expect(metricValue(text, 'ai_time_to_first_token_seconds_count', { transport: 'ws' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'ai_request_duration_seconds_count', { transport: 'ws', kind: 'stream' })).toBeGreaterThanOrEqual(1);
    socket.close();
    await eventually(async () => metricValue(await scrape(), 'ws_connections') === base);
  });
});

describe('the service as a process (e2e)', () => {
  let fake: FakeLlm;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    fake = await startFakeLlm();
  });
  afterAll(async () => {
    await app?.stop();
    await fake.close();
  });

  it('logs one JSON line per AI call with request id, user, model and tokens, never secrets; on SIGTERM mid-stream it stores the partial answer and exits 0', async () => {
    app = await startAppProcess({ NODE_ENV: 'production', LOG_LEVEL: 'info', OPENAI_BASE_URL: fake.baseUrl, SHUTDOWN_GRACE_MS: '300' });
    const registered = await fetch(`${app.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `proc-${Date.now()}@example.com`, password: 'correct horse battery' }),
    }).then((r) => r.json() as Promise<{ accessToken: string; user: { id: string } }>);
    const auth = { authorization: `Bearer ${registered.accessToken}`, 'content-type': 'application/json', 'x-request-id': 'trace-me-123' };

    fake.enqueue({ usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } });
    const chat = await fetch(`${app.url}/api/v1/ai/chat`, { method: 'POST', headers: auth, body: JSON.stringify({ message: 'log me' }) });
    expect(chat.status).toBe(201);
    expect(chat.headers.get('x-request-id')).toBe('trace-me-123');

    const lines = () => app!.output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const aiLine = await eventually(() => lines().find((l) => l.msg === 'ai call' && l.requestId === 'trace-me-123'));
    expect(aiLine).toMatchObject({
      userId: registered.user.id,
      transport: 'rest',
      model: 'gpt-4',
      totalTokens: 9,
      promptTokens: 5,
      completionTokens: 4,
      outcome: 'ok',
      latencyMs: expect.any(Number),
    });
    const requestLine = await eventually(() => lines().find((l) => l.msg === 'request completed' && l.requestId === 'trace-me-123'));
    expect(requestLine).toMatchObject({ userId: registered.user.id, res: { statusCode: 201 }, responseTime: expect.any(Number) });
    await fetch(`${app.url}/metrics`, { headers: { 'x-request-id': 'scrape-1' } });
    await eventually(() => lines().some((l) => l.requestId === 'scrape-1'));
    // Exactly one line per request, also for routes outside the /api/v1 prefix.
    for (const id of ['trace-me-123', 'scrape-1']) {
      expect(lines().filter((l) => l.msg === 'request completed' && l.requestId === id)).toHaveLength(1);
    }

    const socket = await connectSocket(app.url, registered.accessToken);
    const events = recordEvents(socket);
    fake.enqueue({ chunks: Array.from({ length: 100 }, (_, i) => `p${i} `), chunkDelayMs: 30 });
    socket.emit('chat:start', { message: 'long one' });
    await eventually(() => events.filter((e) => e.event === 'chat:message').length >= 3);
    app.child.kill('SIGTERM');

    expect(await app.exited).toEqual({ code: 0, signal: null });
    const stopped = events.find((e) => e.event === 'chat:stopped');
    expect(stopped).toBeDefined();
    socket.close();
    await fake.waitFor((f) => f.abortCount() === 1);

    const streamLine = lines().find((l) => l.msg === 'ai call' && l.transport === 'ws');
    expect(streamLine).toMatchObject({ userId: registered.user.id, outcome: 'aborted', requestId: expect.any(String), kind: 'stream' });

    const all = app.output.join('\n');
    expect(all).not.toContain(TEST_OPENAI_KEY);
    expect(all).not.toContain(registered.accessToken);
    expect(all).not.toContain('correct horse battery');
    expect(all).not.toMatch(/\$2[aby]\$/);

    // The stored partial answer, read with a fresh client since the service is gone.
    const { PrismaClient } = await import('../../src/generated/prisma/client.js');
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.TEST_DATABASE_URL! }) });
    try {
      const message = await prisma.message.findUniqueOrThrow({ where: { id: stopped!.data.messageId } });
      expect(message).toMatchObject({ status: 'stopped', content: streamedText(events) });
    } finally {
      await prisma.$disconnect();
    }
  });
});
