import { randomBytes } from 'node:crypto';
import { releaseTogether } from '../../support/barrier';
import { eventually } from '../../support/eventually';
import { FakeLlm, startFakeLlm } from '../../support/fake-llm.mjs';
import { registerUser } from '../../support/factories';
import { queueOf } from '../../support/queue';
import { startTestApp, TestApp } from '../../support/test-app';

// A deployment: two api instances behind a load balancer and one worker, all on the same
// PostgreSQL, Redis and REDIS_PREFIX. (Two `all` instances and the Redis adapter: gateway spec;
// an api instance that never processes: jobs spec.)
describe('two api instances and a worker (e2e)', () => {
  const RATE_LIMIT = 10;
  let fake: FakeLlm;
  let a: TestApp;
  let b: TestApp;
  let worker: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    const shared = { REDIS_PREFIX: `inst${randomBytes(3).toString('hex')}`, OPENAI_BASE_URL: fake.baseUrl, AI_RATE_LIMIT: String(RATE_LIMIT), AI_JOB_BACKOFF_MS: '10' };
    [a, b, worker] = await Promise.all([
      startTestApp({ ...shared, PROCESS_ROLE: 'api' }),
      startTestApp({ ...shared, PROCESS_ROLE: 'api' }),
      startTestApp({ ...shared, PROCESS_ROLE: 'worker', AI_QUEUE_CONCURRENCY: '4' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await worker.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('shares one rate limit: of 30 calls spread over both instances at once, exactly AI_RATE_LIMIT pass', async () => {
    const user = await registerUser(a);
    const responses = await releaseTogether(
      a.url,
      Array.from({ length: 30 }, (_, i) => ({
        baseUrl: i % 2 ? b.url : a.url,
        method: 'POST',
        path: '/api/v1/ai/chat',
        headers: user.auth,
        body: { message: `call ${i}` },
      })),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(RATE_LIMIT);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(30 - RATE_LIMIT);
    // Both instances refuse from now on, whichever one is asked.
    for (const instance of [a, b]) await instance.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'more' }).expect(429);
  });

  it('runs each job enqueued through either instance exactly once, on the worker, counting its tokens once', async () => {
    const users = await Promise.all([registerUser(a), registerUser(b)]);
    fake.setDefault({ delayMs: 30 });
    const jobs: Array<{ jobId: string; userIndex: number; kind: string }> = [];
    for (let i = 0; i < 16; i++) {
      const instance = i % 2 ? b : a;
      const userIndex = Math.floor(i / 2) % 2;
      const kind = i % 4 < 2 ? 'completion' : 'embeddings';
      const res = await instance.http
        .post(`/api/v1/ai/jobs/${kind}`)
        .set(users[userIndex].auth)
        .send(kind === 'completion' ? { message: `job ${i}` } : { text: `job ${i}` })
        .expect(202);
      jobs.push({ jobId: res.body.jobId, userIndex, kind });
    }
    // Every job's status is readable from either api instance, by its owner only.
    for (const { jobId, userIndex } of jobs) {
      await eventually(
        async () => (await (jobId.charCodeAt(0) % 2 ? a : b).http.get(`/api/v1/ai/jobs/${jobId}`).set(users[userIndex].auth).expect(200)).body.state === 'completed',
        15_000,
        50,
      );
      await (userIndex ? a : b).http
        .get(`/api/v1/ai/jobs/${jobId}`)
        .set(users[1 - userIndex].auth)
        .expect(404);
    }
    expect(fake.requests).toHaveLength(16);
    for (const { jobId } of jobs) expect((await queueOf(worker).getJob(jobId))!.attemptsMade).toBe(0);
    for (const [index, user] of users.entries()) {
      const own = jobs.filter((j) => j.userIndex === index);
      const [messages, embeddings, row] = await Promise.all([
        a.prisma.message.findMany({ where: { conversation: { userId: user.id } } }),
        a.prisma.usageRecord.findMany({ where: { userId: user.id, kind: 'embedding' } }),
        a.prisma.user.findUniqueOrThrow({ where: { id: user.id } }),
      ]);
      expect(messages).toHaveLength(2 * own.filter((j) => j.kind === 'completion').length);
      expect(embeddings).toHaveLength(own.filter((j) => j.kind === 'embeddings').length);
      const stored = messages.reduce((sum, m) => sum + (m.tokens ?? 0), 0) + embeddings.reduce((sum, e) => sum + e.tokens, 0);
      expect(row).toMatchObject({ totalTokensUsed: stored, reservedTokens: 0 });
    }
  });
});
