import { JwtService } from '@nestjs/jwt';
import { createServer, IncomingMessage, Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { eventually } from '../support/eventually';
import { startTestApp, TestApp } from '../support/test-app';
import { TEST_JWT_SECRET, TEST_OPENAI_KEY } from '../support/test-env';

// The fields of a Sentry event that these tests read.
interface SentryEvent {
  tags?: Record<string, string | undefined>;
  user?: { id?: string };
  request?: unknown;
  exception?: unknown;
}

// Stands in for Sentry's ingest endpoint: collects the events of every envelope posted to it.
async function startIngest(): Promise<{ dsn: string; events: SentryEvent[]; raw: string[]; close(): Promise<void> }> {
  const events: SentryEvent[] = [];
  const raw: string[] = [];
  const collect = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const text = body.toString('utf8');
    raw.push(text);
    const lines = text.split('\n').filter(Boolean);
    for (let i = 1; i + 1 < lines.length; i += 2) {
      if ((JSON.parse(lines[i]) as { type?: string }).type === 'event') events.push(JSON.parse(lines[i + 1]) as SentryEvent);
    }
  };
  // node:http ignores what the listener returns: a failure answers 500 instead of escaping as an unhandled rejection.
  const server: Server = createServer((req, res) => {
    collect(req).then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { dsn: `http://publickey@127.0.0.1:${port}/42`, events, raw, close: () => new Promise((r) => server.close(() => r())) };
}

// Sentry's client is process-wide: every app in this file reports to one ingest server.
let ingest: Awaited<ReturnType<typeof startIngest>>;
beforeAll(async () => {
  ingest = await startIngest();
});
afterAll(() => ingest.close());

describe('error tracking (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // PostgreSQL unreachable: a request that needs it fails with an unexpected error.
    t = await startTestApp({ SENTRY_DSN: ingest.dsn, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });
  });
  afterAll(() => t.close());

  it('reports an unexpected failure with the request id and user id, and nothing secret', async () => {
    const token = new JwtService().sign({ sub: 'user-123', email: 'u@example.com', typ: 'access' }, { secret: TEST_JWT_SECRET });
    const res = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).set('x-request-id', 'req-sentry-1');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ statusCode: 503, message: 'Service temporarily unavailable', error: 'Service Unavailable' });

    const event = await eventually(() => ingest.events.find((e) => e.tags?.requestId === 'req-sentry-1'), 10_000);
    expect(event).toMatchObject({ user: { id: 'user-123' }, tags: { requestId: 'req-sentry-1', transport: 'rest' }, exception: expect.any(Object) });
    expect(event.request).toBeUndefined();
    const everything = ingest.raw.join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(TEST_OPENAI_KEY);
    expect(everything).not.toContain(TEST_JWT_SECRET);
  });

  it('does not report expected client errors', async () => {
    const before = ingest.events.length;
    await t.http.get('/api/v1/auth/me').set('x-request-id', 'req-401').expect(401);
    await t.http.post('/api/v1/auth/login').send({ nope: true }).expect(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ingest.events.slice(before).filter((e) => e.tags?.requestId === 'req-401')).toHaveLength(0);
  });
});

describe('error tracking of failed jobs (e2e)', () => {
  it('reports a job that ends failed with its job id and user id, without the message content', async () => {
    const { startFakeLlm } = await import('../support/fake-llm.mjs');
    const { registerUser } = await import('../support/factories.js');
    const fake = await startFakeLlm();
    const t = await startTestApp({ SENTRY_DSN: ingest.dsn, OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '10' });
    try {
      const user = await registerUser(t);
      fake.enqueue({ status: 400, error: { message: 'bad request upstream' } });
      const { body } = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'top secret content' }).expect(202);
      const event = await eventually(() => ingest.events.find((e) => e.tags?.jobId === body.jobId), 10_000);
      expect(event).toMatchObject({ user: { id: user.id }, tags: { jobId: body.jobId, transport: 'job' } });
      expect(ingest.raw.join('\n')).not.toContain('top secret content');
    } finally {
      await t.close();
      await fake.close();
    }
  });
});
