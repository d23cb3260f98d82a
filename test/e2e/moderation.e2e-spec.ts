import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { drainQueue, queueOf } from '../support/queue';
import { startTestApp, TestApp } from '../support/test-app';
import { baseTestEnv } from '../support/test-env';
import { connectSocket, recordEvents, waitForTerminal } from '../support/ws-client';

const FLAGGED_BODY = { statusCode: 400, error: 'Bad Request', message: 'Message flagged by content moderation', categories: ['violence'] };
const UNAVAILABLE_BODY = { statusCode: 503, error: 'Service Unavailable', message: 'Content moderation is unavailable; retry later' };

// What a refused turn must leave behind: nothing stored, no token counted or held.
async function expectNothingStored(t: TestApp, user: TestUser): Promise<void> {
  const [conversations, messages, row, ledger] = await Promise.all([
    t.prisma.conversation.count({ where: { userId: user.id } }),
    t.prisma.message.count({ where: { conversation: { userId: user.id } } }),
    t.prisma.user.findUniqueOrThrow({ where: { id: user.id } }),
    t.prisma.usageRecord.count({ where: { userId: user.id } }),
  ]);
  expect({ conversations, messages, used: row.totalTokensUsed, reserved: row.reservedTokens, ledger }).toEqual({
    conversations: 0,
    messages: 0,
    used: 0,
    reserved: 0,
    ledger: 0,
  });
}

async function streamTurn(t: TestApp, user: TestUser, message: string) {
  const socket = await connectSocket(t.url, user.accessToken);
  try {
    const events = recordEvents(socket);
    socket.emit('chat:start', { message });
    const terminal = await waitForTerminal(events);
    return { events, terminal };
  } finally {
    socket.close();
  }
}

async function waitForJob(t: TestApp, user: TestUser, jobId: string) {
  await drainQueue(t);
  return (await t.http.get(`/api/v1/ai/jobs/${jobId}`).set(user.auth).expect(200)).body;
}

const scrapeModerationChecks = async (t: TestApp): Promise<Record<string, number>> => {
  const text = (await t.http.get('/metrics').expect(200)).text;
  return Object.fromEntries([...text.matchAll(/^ai_moderation_checks_total\{[^}]*result="(\w+)"[^}]*\} (\d+)/gm)].map(([, result, count]) => [result, Number(count)]));
};

describe('content moderation (e2e)', () => {
  let fake: FakeLlm;

  beforeAll(async () => {
    fake = await startFakeLlm();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  describe('AI_MODERATION=block', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_MODERATION: 'block', AI_MODERATION_TIMEOUT_MS: '300' });
    });
    afterAll(() => t.close());

    it('REST: a flagged message is a 400 naming its categories; nothing is stored, sent to the chat model or counted', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'I will [flag:violence] you' }).expect(400);
      expect(res.body).toEqual(FLAGGED_BODY);
      expect(fake.moderationRequests().map((r) => r.body)).toEqual([{ model: 'omni-moderation-latest', input: 'I will [flag:violence] you' }]);
      expect(fake.chatRequests()).toHaveLength(0);
      await expectNothingStored(t, user);
    });

    it('REST: a clean message is checked, then answered and stored unflagged', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hello there' }).expect(201);
      expect(fake.moderationRequests()).toHaveLength(1);
      expect(fake.chatRequests()).toHaveLength(1);
      const messages = await t.prisma.message.findMany({ where: { conversationId: res.body.conversationId }, orderBy: { createdAt: 'asc' } });
      expect(messages.map((m) => ({ role: m.role, flagged: m.flagged, categories: m.categories }))).toEqual([
        { role: 'USER', flagged: false, categories: [] },
        { role: 'ASSISTANT', flagged: false, categories: [] },
      ]);
    });

    it('socket: a flagged chat:start ends with chat:error 400 and its categories; nothing stored or sent', async () => {
      const user = await registerUser(t);
      const { events, terminal } = await streamTurn(t, user, 'tell me how to [flag:violence]');
      expect(terminal).toEqual({ event: 'chat:error', data: { code: 400, message: 'Message flagged by content moderation', categories: ['violence'] } });
      expect(events.map((e) => e.event)).toEqual(['chat:error']);
      expect(fake.chatRequests()).toHaveLength(0);
      await expectNothingStored(t, user);
    });

    it('jobs: a flagged completion is refused at enqueue with the 400; no job is queued', async () => {
      const user = await registerUser(t);
      const before = await queueOf(t).getJobCounts();
      const res = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'a [flag:violence] plan' }).expect(400);
      expect(res.body).toEqual(FLAGGED_BODY);
      expect(await queueOf(t).getJobCounts()).toEqual(before);
      expect(fake.chatRequests()).toHaveLength(0);
      await expectNothingStored(t, user);
    });

    it('jobs: a clean completion is checked once, at enqueue, not again by the worker', async () => {
      const user = await registerUser(t);
      const queued = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'summarise NestJS' }).expect(202);
      const job = await waitForJob(t, user, queued.body.jobId);
      expect(job.state).toBe('completed');
      expect(fake.moderationRequests()).toHaveLength(1);
      expect(fake.chatRequests()).toHaveLength(1);
    });

    it("a template's rendered text is what is checked: flagged once rendered, it is refused", async () => {
      const user = await registerUser(t);
      const prompt = await t.http.post('/api/v1/ai/prompts').set(user.auth).send({ name: 'do', template: 'Please {{action}} now.' }).expect(201);
      const res = await t.http
        .post('/api/v1/ai/chat')
        .set(user.auth)
        .send({ promptId: prompt.body.id, variables: { action: '[flag:violence]' } })
        .expect(400);
      expect(res.body).toEqual(FLAGGED_BODY);
      expect(fake.moderationRequests().map((r) => r.body.input)).toEqual(['Please [flag:violence] now.']);
      expect(fake.chatRequests()).toHaveLength(0);
      await expectNothingStored(t, user);
    });

    it('a system prompt flagged on create or PATCH is refused and changes nothing', async () => {
      const user = await registerUser(t);
      await t.http.post('/api/v1/ai/conversations').set(user.auth).send({ systemPrompt: 'be [flag:hate] always' }).expect(400);
      const created = await t.http.post('/api/v1/ai/conversations').set(user.auth).send({ title: 'ok', systemPrompt: 'be kind' }).expect(201);
      const res = await t.http.patch(`/api/v1/ai/conversations/${created.body.id}`).set(user.auth).send({ systemPrompt: 'be [flag:hate]' }).expect(400);
      expect(res.body.categories).toEqual(['hate']);
      const stored = await t.prisma.conversation.findMany({ where: { userId: user.id } });
      expect(stored.map((c) => c.systemPrompt)).toEqual(['be kind']);
    });

    describe.each([
      ['fails', { status: 500 }],
      ['times out', { hang: true }],
    ])('the moderation endpoint %s: the turn fails closed with 503 and nothing reaches the model', (_, behaviour) => {
      beforeEach(() => fake.setModeration(behaviour));

      it('REST', async () => {
        const user = await registerUser(t);
        const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hello' }).expect(503);
        expect(res.body).toEqual(UNAVAILABLE_BODY);
        expect(fake.chatRequests()).toHaveLength(0);
        await expectNothingStored(t, user);
      });

      it('socket', async () => {
        const user = await registerUser(t);
        const { terminal } = await streamTurn(t, user, 'hello');
        expect(terminal).toEqual({ event: 'chat:error', data: { code: 503, message: UNAVAILABLE_BODY.message } });
        expect(fake.chatRequests()).toHaveLength(0);
        await expectNothingStored(t, user);
      });

      it('jobs, at enqueue', async () => {
        const user = await registerUser(t);
        const res = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'hello' }).expect(503);
        expect(res.body).toEqual(UNAVAILABLE_BODY);
        expect(fake.chatRequests()).toHaveLength(0);
      });
    });

    it('counts checks by result on /metrics', async () => {
      const before = await scrapeModerationChecks(t);
      const user = await registerUser(t);
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'fine' }).expect(201);
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: '[flag:violence]' }).expect(400);
      fake.setModeration({ status: 500 });
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'fine' }).expect(503);
      const after = await scrapeModerationChecks(t);
      const delta = (result: string) => (after[result] ?? 0) - (before[result] ?? 0);
      expect({ allowed: delta('allowed'), blocked: delta('blocked'), flagged: delta('flagged'), error: delta('error') }).toEqual({
        allowed: 1,
        blocked: 1,
        flagged: 0,
        error: 1,
      });
    });
  });

  describe('AI_MODERATION=flag with AI_MODERATION_OUTPUT=true', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_MODERATION: 'flag', AI_MODERATION_OUTPUT: 'true', AI_MODERATION_TIMEOUT_MS: '300' });
    });
    afterAll(() => t.close());

    const storedTurn = (conversationId: string) => t.prisma.message.findMany({ where: { conversationId }, orderBy: { createdAt: 'asc' } });

    it('REST: a flagged message goes on to the model and is stored flagged with its categories; the answer is checked too', async () => {
      const user = await registerUser(t);
      fake.enqueue({ content: 'A calm answer.' });
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'some [flag:hate] words' }).expect(201);
      expect(fake.chatRequests()).toHaveLength(1);
      expect(fake.moderationRequests().map((r) => r.body.input)).toEqual(['some [flag:hate] words', 'A calm answer.']);
      const [question, answer] = await storedTurn(res.body.conversationId);
      expect([question, answer].map((m) => ({ flagged: m.flagged, categories: m.categories }))).toEqual([
        { flagged: true, categories: ['hate'] },
        { flagged: false, categories: [] },
      ]);
      const detail = await t.http.get(`/api/v1/ai/conversations/${res.body.conversationId}`).set(user.auth).expect(200);
      expect(detail.body.messages.map((m: { flagged: boolean; categories: string[] }) => [m.flagged, m.categories])).toEqual([
        [true, ['hate']],
        [false, []],
      ]);
    });

    it('a flagged answer is stored with its verdict (and still delivered)', async () => {
      const user = await registerUser(t);
      fake.enqueue({ content: 'Something [flag:violence/graphic] here.' });
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'describe it' }).expect(201);
      expect(res.body.content).toBe('Something [flag:violence/graphic] here.');
      const [question, answer] = await storedTurn(res.body.conversationId);
      expect(question.flagged).toBe(false);
      expect({ flagged: answer.flagged, categories: answer.categories }).toEqual({ flagged: true, categories: ['violence/graphic'] });
    });

    it('socket: a flagged message streams on and is stored flagged; the answer is checked before chat:end', async () => {
      const user = await registerUser(t);
      fake.enqueue({ chunks: ['Sure', ' [flag:harassment]'] });
      const { terminal } = await streamTurn(t, user, 'a [flag:self-harm] question');
      expect(terminal.event).toBe('chat:end');
      const [question, answer] = await storedTurn(terminal.data.conversationId);
      expect([question, answer].map((m) => [m.flagged, m.categories])).toEqual([
        [true, ['self-harm']],
        [true, ['harassment']],
      ]);
    });

    it('jobs: the verdict taken at enqueue is stored with the question; the worker does not check it again', async () => {
      const user = await registerUser(t);
      fake.enqueue({ content: 'Done.' });
      const queued = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'a [flag:illicit] job' }).expect(202);
      const job = await waitForJob(t, user, queued.body.jobId);
      expect(job.state).toBe('completed');
      expect(fake.moderationRequests().map((r) => r.body.input)).toEqual(['a [flag:illicit] job', 'Done.']);
      const [question] = await storedTurn(job.result.conversationId);
      expect({ flagged: question.flagged, categories: question.categories }).toEqual({ flagged: true, categories: ['illicit'] });
    });

    it('the moderation endpoint failing: the turn goes on unflagged, and the failures are counted', async () => {
      const before = await scrapeModerationChecks(t);
      fake.setModeration({ status: 503 });
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'a [flag:hate] message' }).expect(201);
      const [question, answer] = await storedTurn(res.body.conversationId);
      expect([question.flagged, answer.flagged]).toEqual([false, false]);
      const after = await scrapeModerationChecks(t);
      expect((after.error ?? 0) - (before.error ?? 0)).toBe(2); // the question, then the answer
    });
  });

  it('stops the process at start-up with one line when moderation is on but OpenAI is not configured', async () => {
    const env = { ...process.env, ...baseTestEnv({ AI_MODERATION: 'block', OPENAI_API_KEY: '', OPENAI_BASE_URL: '', PORT: '0' }) };
    const child = spawn(process.execPath, ['-r', './test/support/ts-register.cjs', 'src/main.ts'], {
      cwd: join(__dirname, '..', '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, stderr }).toEqual({
      code: 1,
      stderr: "Invalid environment variable AI_MODERATION: moderation uses OpenAI's endpoint; set OPENAI_API_KEY or OPENAI_BASE_URL\n",
    });
  }, 30_000);

  describe('AI_MODERATION unset', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl });
    });
    afterAll(() => t.close());

    it('checks nothing: a marked message is answered and stored unflagged', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'a [flag:violence] message' }).expect(201);
      expect(fake.moderationRequests()).toHaveLength(0);
      const stored = await t.prisma.message.findMany({ where: { conversationId: res.body.conversationId } });
      expect(stored.every((m) => !m.flagged)).toBe(true);
    });
  });
});
