import { getQueueToken } from '@nestjs/bull';
import type { JobStatus, Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import { AI_JOBS_QUEUE } from '../../src/ai/jobs/ai-jobs.constants';
import { eventually } from '../support/eventually';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const anyUuid = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const BOARD = { user: 'ops', password: 'board-secret:with-colon' };
const ALL_STATES: JobStatus[] = ['waiting', 'active', 'completed', 'failed', 'delayed', 'paused'];

const queueOf = (t: TestApp) => t.app.get<Queue>(getQueueToken(AI_JOBS_QUEUE), { strict: false });

// Polls the status route until the job reaches `state`; returns the last status body.
async function waitForState(t: TestApp, user: TestUser, jobId: string, state: string) {
  return eventually(async () => {
    const res = await t.http.get(`/api/v1/ai/jobs/${jobId}`).set(user.auth).expect(200);
    expect(res.body.state).toBe(state);
    return res.body;
  }, 10_000);
}

async function jobsOf(queue: Queue, userId: string) {
  return (await queue.getJobs(ALL_STATES)).filter((job) => job?.data.userId === userId);
}

describe('Background jobs /api/v1/ai/jobs (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let queue: Queue;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      OPENAI_BASE_URL: fake.baseUrl,
      AI_JOB_BACKOFF_MS: '10',
      AI_MAX_MESSAGE_LENGTH: '200',
      OPENAI_MAX_TOKENS: '1000',
      BULL_BOARD_USER: BOARD.user,
      BULL_BOARD_PASSWORD: BOARD.password,
    });
    queue = queueOf(t);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const enqueue = (user: TestUser, kind: 'completion' | 'embeddings', body: object) => t.http.post(`/api/v1/ai/jobs/${kind}`).set(user.auth).send(body);
  const totalTokensOf = async (user: TestUser) => (await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed;

  describe('completion', () => {
    it('answers 202, completes with the POST /chat shape, stores the turn once and counts its tokens once', async () => {
      const user = await registerUser(t);
      fake.enqueue({ content: 'Background answer.', usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 } });
      const queued = await enqueue(user, 'completion', { message: 'Summarise NestJS', maxTokens: 300, temperature: 0.2 }).expect(202);
      expect(queued.body).toEqual({ jobId: anyUuid, status: 'queued' });

      const status = await waitForState(t, user, queued.body.jobId, 'completed');
      expect(status).toEqual({
        id: queued.body.jobId,
        progress: 100,
        state: 'completed',
        // gpt-4 at $30 / $60 per million tokens: 7 × 30 + 5 × 60 = 510 millionths of a dollar.
        result: {
          conversationId: expect.any(String),
          messageId: expect.any(String),
          content: 'Background answer.',
          model: 'gpt-4',
          tokens: 12,
          costUsd: 0.00051,
          createdAt: anyDate,
        },
        failedReason: null,
      });
      expect(fake.chatRequests()).toHaveLength(1);
      expect(fake.chatRequests()[0].body).toMatchObject({ messages: [{ role: 'user', content: 'Summarise NestJS' }], max_tokens: 300, temperature: 0.2 });

      const messages = await t.prisma.message.findMany({ where: { conversationId: status.result.conversationId }, orderBy: { createdAt: 'asc' } });
      expect(messages.map((m) => [m.role, m.content, m.tokens])).toEqual([
        ['USER', 'Summarise NestJS', null],
        ['ASSISTANT', 'Background answer.', 12],
      ]);
      expect(messages[1].id).toBe(status.result.messageId);
      expect(await totalTokensOf(user)).toBe(12);
      const conversation = await t.http.get(`/api/v1/ai/conversations/${status.result.conversationId}`).set(user.auth).expect(200);
      expect(conversation.body.messageCount).toBe(2);
    });

    it("continues the caller's conversation with its history", async () => {
      const user = await registerUser(t);
      const first = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'first' }).expect(201);
      fake.reset();
      const queued = await enqueue(user, 'completion', { message: 'second', conversationId: first.body.conversationId }).expect(202);
      const status = await waitForState(t, user, queued.body.jobId, 'completed');
      expect(status.result.conversationId).toBe(first.body.conversationId);
      expect(fake.chatRequests()[0].body.messages).toEqual([
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'Echo: first' },
        { role: 'user', content: 'second' },
      ]);
      expect(await t.prisma.message.count({ where: { conversationId: first.body.conversationId } })).toBe(4);
    });

    it('fails at once on an upstream 400: one attempt, no retry, a failedReason, nothing counted', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 400, error: { message: "This model's maximum context length is 8192 tokens" } });
      const queued = await enqueue(user, 'completion', { message: 'too long' }).expect(202);

      const status = await waitForState(t, user, queued.body.jobId, 'failed');
      expect(status).toEqual({
        id: queued.body.jobId,
        progress: 10,
        state: 'failed',
        result: null,
        failedReason: "This model's maximum context length is 8192 tokens",
      });
      const job = await queue.getJob(queued.body.jobId);
      expect(job!.attemptsMade).toBe(1);
      expect(fake.chatRequests()).toHaveLength(1);
      expect(await totalTokensOf(user)).toBe(0);
    });

    it('retries an upstream 500 and then stores the turn once, reusing the stored user message', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 500 }, { content: 'Second time lucky.', usage: { total_tokens: 9 } });
      const queued = await enqueue(user, 'completion', { message: 'flaky' }).expect(202);

      const status = await waitForState(t, user, queued.body.jobId, 'completed');
      expect(status.result).toMatchObject({ content: 'Second time lucky.', tokens: 9 });
      const [firstTry, secondTry] = fake.chatRequests();
      expect(fake.chatRequests()).toHaveLength(2);
      // The retry sends the same prompt: the user message of the first attempt is not in its history twice.
      expect(secondTry.body.messages).toEqual(firstTry.body.messages);
      const messages = await t.prisma.message.findMany({ where: { conversation: { userId: user.id } }, orderBy: { createdAt: 'asc' } });
      expect(messages.map((m) => [m.role, m.content])).toEqual([
        ['USER', 'flaky'],
        ['ASSISTANT', 'Second time lucky.'],
      ]);
      expect(await totalTokensOf(user)).toBe(9);
    });

    it('gives up after 3 attempts of an upstream that stays down', async () => {
      const user = await registerUser(t);
      fake.setDefault({ status: 503 });
      const queued = await enqueue(user, 'completion', { message: 'never answered' }).expect(202);

      const status = await waitForState(t, user, queued.body.jobId, 'failed');
      expect(status.failedReason).toBe('The AI provider is unavailable');
      expect((await queue.getJob(queued.body.jobId))!.attemptsMade).toBe(3);
      expect(fake.chatRequests()).toHaveLength(3);
      const messages = await t.prisma.message.findMany({ where: { conversation: { userId: user.id } } });
      expect(messages.map((m) => [m.role, m.content])).toEqual([['USER', 'never answered']]);
      expect(await totalTokensOf(user)).toBe(0);
    });

    it('fails without retrying when the budget is used up between enqueue and run', async () => {
      const user = await registerUser(t);
      // Stops the worker from taking the job until the budget is gone.
      await queue.pause(true);
      let jobId: string;
      try {
        jobId = (await enqueue(user, 'completion', { message: 'late' }).expect(202)).body.jobId;
        await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 10, totalTokensUsed: 10 } });
      } finally {
        await queue.resume(true);
      }
      const status = await waitForState(t, user, jobId, 'failed');
      expect(status.failedReason).toBe('Token limit exceeded');
      expect((await queue.getJob(jobId))!.attemptsMade).toBe(1);
      expect(fake.chatRequests()).toHaveLength(0);
    });
  });

  describe('embeddings', () => {
    it('answers 202, completes with the POST /embeddings shape and counts the tokens once', async () => {
      const user = await registerUser(t);
      const queued = await enqueue(user, 'embeddings', { text: 'embed me please' }).expect(202);
      expect(queued.body).toEqual({ jobId: anyUuid, status: 'queued' });

      const status = await waitForState(t, user, queued.body.jobId, 'completed');
      expect(status).toEqual({
        id: queued.body.jobId,
        progress: 100,
        state: 'completed',
        result: { embedding: expect.any(Array), model: 'text-embedding-3-small', tokens: expect.any(Number) },
        failedReason: null,
      });
      expect(status.result.embedding).toHaveLength(8);
      expect(status.result.embedding.every((x: unknown) => typeof x === 'number')).toBe(true);
      expect(fake.embeddingRequests()).toHaveLength(1);
      expect(await totalTokensOf(user)).toBe(status.result.tokens);
      expect(await t.prisma.usageRecord.count({ where: { userId: user.id, kind: 'embedding' } })).toBe(1);
    });

    it('retries an upstream 502 and counts the tokens once', async () => {
      const user = await registerUser(t);
      fake.enqueue({ status: 502 }, { usage: { prompt_tokens: 4, total_tokens: 4 } });
      const queued = await enqueue(user, 'embeddings', { text: 'abcd', model: 'text-embedding-3-large' }).expect(202);
      const status = await waitForState(t, user, queued.body.jobId, 'completed');
      expect(status.result).toMatchObject({ model: 'text-embedding-3-large', tokens: 4 });
      expect(fake.embeddingRequests()).toHaveLength(2);
      expect(await totalTokensOf(user)).toBe(4);
    });
  });

  describe('GET /api/v1/ai/jobs/:jobId', () => {
    it("answers 404 for another user's job and for an unknown id", async () => {
      const owner = await registerUser(t, 'owner');
      const other = await registerUser(t, 'other');
      const queued = await enqueue(owner, 'embeddings', { text: 'mine' }).expect(202);
      await waitForState(t, owner, queued.body.jobId, 'completed');

      for (const [user, jobId] of [
        [other, queued.body.jobId],
        [owner, '6f1c2a7e-1111-4222-8333-444455556666'],
        [owner, '1'],
      ] as const) {
        const res = await t.http.get(`/api/v1/ai/jobs/${jobId}`).set(user.auth).expect(404);
        expect(res.body).toEqual({ statusCode: 404, message: 'Job not found', error: 'Not Found' });
      }
    });

    it('needs an access token', async () => {
      await t.http.get('/api/v1/ai/jobs/1').expect(401);
      await t.http.post('/api/v1/ai/jobs/completion').send({ message: 'hi' }).expect(401);
    });
  });

  describe('refusals at enqueue (nothing is queued)', () => {
    it.each([
      ['completion', {}],
      ['completion', { message: '' }],
      ['completion', { message: 'x'.repeat(201) }],
      ['completion', { message: 'hi', maxTokens: 1001 }],
      ['completion', { message: 'hi', conversationId: 'not-a-uuid' }],
      ['completion', { message: 'hi', userId: 'someone-else' }],
      ['embeddings', {}],
      ['embeddings', { text: 7 }],
      ['embeddings', { text: 'x', dimensions: 3 }],
    ] as const)('answers 400 to a %s body %p', async (kind, body) => {
      const user = await registerUser(t);
      const res = await enqueue(user, kind, body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(Array), error: 'Bad Request' });
      expect(await jobsOf(queue, user.id)).toEqual([]);
    });

    it.each(['completion', 'embeddings'] as const)('answers 403 to a %s job once the budget is used up', async (kind) => {
      const user = await registerUser(t);
      await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 50, totalTokensUsed: 50 } });
      const res = await enqueue(user, kind, kind === 'completion' ? { message: 'hi' } : { text: 'hi' }).expect(403);
      expect(res.body).toEqual({ statusCode: 403, message: 'Token limit exceeded', error: 'Forbidden' });
      expect(await jobsOf(queue, user.id)).toEqual([]);
    });

    it("answers 404 to a completion in another user's conversation", async () => {
      const owner = await registerUser(t, 'owner');
      const other = await registerUser(t, 'other');
      const { body } = await t.http.post('/api/v1/ai/chat').set(owner.auth).send({ message: 'secret' }).expect(201);
      const res = await enqueue(other, 'completion', { message: 'let me in', conversationId: body.conversationId }).expect(404);
      expect(res.body).toEqual({ statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
      expect(await jobsOf(queue, other.id)).toEqual([]);
    });
  });

  describe('dashboard /admin/queues', () => {
    it('asks for credentials with 401 and a Basic challenge', async () => {
      for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
        const res = await t.http.get(path).expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Basic realm="Queues"/);
        await t.http.get(path).auth(BOARD.user, 'wrong').expect(401);
        await t.http.get(path).auth('someone', BOARD.password).expect(401);
      }
    });

    it('serves the page and the scripts it loads with the right credentials', async () => {
      const page = await t.http.get('/admin/queues').auth(BOARD.user, BOARD.password).expect(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<base href="/admin/queues/"');
      // Helmet's CSP allows same-origin scripts; the board uses no inline script (its config is JSON data).
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      const scripts = [...page.text.matchAll(/<script[^>]* src="([^"]+)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const src of scripts) {
        const res = await t.http.get(`/admin/queues/${src}`).auth(BOARD.user, BOARD.password).expect(200);
        expect(res.headers['content-type']).toMatch(/javascript/);
      }
    });

    it('lists ai-tasks with its jobs in its API', async () => {
      const user = await registerUser(t);
      const queued = await enqueue(user, 'embeddings', { text: 'for the board' }).expect(202);
      await waitForState(t, user, queued.body.jobId, 'completed');
      const res = await t.http.get('/admin/queues/api/queues?activeQueue=ai-tasks&status=completed').auth(BOARD.user, BOARD.password).expect(200);
      const names = res.body.queues.map((q: { name: string }) => q.name);
      expect(names).toEqual(['ai-tasks']);
      const aiTasks = res.body.queues[0];
      expect(aiTasks.counts.completed).toBeGreaterThan(0);
      expect(aiTasks.jobs.map((j: { id: string }) => j.id)).toContain(queued.body.jobId);
    });

    it('is not under the API prefix', async () => {
      await t.http.get('/api/v1/admin/queues').auth(BOARD.user, BOARD.password).expect(404);
    });
  });
});

describe('PROCESS_ROLE api + worker (e2e)', () => {
  let fake: FakeLlm;
  let api: TestApp;
  let worker: TestApp | undefined;
  // Both instances share Redis, the database and the queue's key prefix, as in a deployment.
  const shared = () => ({ REDIS_PREFIX: `roles${randomBytes(3).toString('hex')}`, OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '10' });
  let env: Record<string, string>;
  const startWorker = async () =>
    (worker ??= await startTestApp({ ...env, PROCESS_ROLE: 'worker', AI_QUEUE_CONCURRENCY: '2', BULL_BOARD_USER: BOARD.user, BULL_BOARD_PASSWORD: BOARD.password }));

  beforeAll(async () => {
    fake = await startFakeLlm();
    env = shared();
    api = await startTestApp({ ...env, PROCESS_ROLE: 'api' });
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('the api instance queues but never processes; a separate worker processes the job exactly once', async () => {
    const user = await registerUser(api);
    fake.enqueue({ content: 'From the worker.', usage: { total_tokens: 6 } });
    const queued = await api.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'who runs me?' }).expect(202);
    const apiQueue = queueOf(api);
    // No Bull worker is registered anywhere on this prefix, so the job must still be waiting.
    expect(await apiQueue.getWorkers()).toEqual([]);
    expect(await (await apiQueue.getJob(queued.body.jobId))!.getState()).toBe('waiting');

    await startWorker();
    const status = await waitForState(api, user, queued.body.jobId, 'completed');
    expect(status.result).toMatchObject({ content: 'From the worker.', tokens: 6 });
    expect(await apiQueue.getWorkers()).toHaveLength(1);
    const job = (await apiQueue.getJob(queued.body.jobId))!;
    expect(job.processedOn).toEqual(expect.any(Number));
    expect(job.attemptsMade).toBe(0);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(await api.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(2);
  });

  it('the worker runs at most AI_QUEUE_CONCURRENCY jobs at once, whatever their names', async () => {
    await startWorker();
    const user = await registerUser(api);
    fake.setDefault({ delayMs: 150 });
    const bodies = [
      ['completion', { message: 'a' }],
      ['embeddings', { text: 'b' }],
      ['completion', { message: 'c' }],
      ['embeddings', { text: 'd' }],
    ] as const;
    const jobIds: string[] = [];
    for (const [kind, body] of bodies) {
      jobIds.push((await api.http.post(`/api/v1/ai/jobs/${kind}`).set(user.auth).send(body).expect(202)).body.jobId);
    }
    for (const jobId of jobIds) await waitForState(api, user, jobId, 'completed');
    const intervals = fake.requests.map((r) => [r.receivedAt, r.closedAt ?? Infinity] as const);
    const maxOverlap = Math.max(...intervals.map(([start]) => intervals.filter(([s, end]) => s <= start && start < end).length));
    expect(maxOverlap).toBe(2);
  });

  it('the worker serves health and metrics only: no API, auth, docs, socket gateway or dashboard', async () => {
    const w = await startWorker();
    await w.http.get('/api/v1/health').expect(200);
    const metrics = await w.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^ai_queue_jobs\{queue="ai-tasks",state="waiting"[^}]*\} \d+$/m);
    await w.http.post('/api/v1/auth/register').send({ email: 'w@example.com', password: 'long enough password' }).expect(404);
    await w.http.post('/api/v1/ai/chat').send({ message: 'hi' }).expect(404);
    await w.http.post('/api/v1/ai/jobs/completion').send({ message: 'hi' }).expect(404);
    await w.http.get('/api/v1/ai/jobs/1').expect(404);
    await w.http.get('/api/docs').expect(404);
    await w.http.get('/socket.io/?EIO=4&transport=polling').expect(404);
    await w.http.get('/admin/queues').auth(BOARD.user, BOARD.password).expect(404);
  });

  it('the dashboard is not mounted when BULL_BOARD_USER/PASSWORD are unset', async () => {
    await api.http.get('/admin/queues').expect(404);
    await api.http.get('/admin/queues/api/queues').expect(404);
  });

  it('closing the worker lets its running job finish first', async () => {
    const w = await startWorker();
    const user = await registerUser(api);
    fake.enqueue({ delayMs: 300, content: 'finished during shutdown' });
    const queued = await api.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'slow' }).expect(202);
    await waitForState(api, user, queued.body.jobId, 'active');
    await w.close();
    worker = undefined;
    const job = (await queueOf(api).getJob(queued.body.jobId))!;
    expect(await job.getState()).toBe('completed');
    expect(job.returnvalue).toMatchObject({ content: 'finished during shutdown' });
    expect(await queueOf(api).getWorkers()).toEqual([]);
  });
});

describe('job routes and the per-user AI rate limit (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: '3' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('counts enqueues in the same per-user window as POST /chat, and status polling not at all', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'one' }).expect(201);
    const queued = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'two' }).expect(202);
    await t.http.post('/api/v1/ai/jobs/embeddings').set(user.auth).send({ text: 'three' }).expect(202);
    const refused = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'four' }).expect(429);
    expect(refused.body).toEqual({ statusCode: 429, message: 'Too many requests', error: 'Too Many Requests' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.post('/api/v1/ai/jobs/embeddings').set(user.auth).send({ text: 'five' }).expect(429);
    for (let i = 0; i < 5; i++) await t.http.get(`/api/v1/ai/jobs/${queued.body.jobId}`).set(user.auth).expect(200);
    await t.http.post('/api/v1/ai/jobs/embeddings').set(other.auth).send({ text: 'fine' }).expect(202);
    // Let the queued jobs finish before the app closes.
    await waitForState(t, user, queued.body.jobId, 'completed');
    await eventually(async () => {
      const counts = await queueOf(t).getJobCounts();
      return counts.waiting + counts.active + counts.delayed === 0;
    });
  });
});
