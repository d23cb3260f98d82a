import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { drainQueue, queueOf } from '../support/queue';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, waitForTerminal } from '../support/ws-client';

const TEMPLATE = 'Translate "{{text}}" into {{language}}.';

describe('chat from a prompt template (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_MAX_MESSAGE_LENGTH: '200' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  async function templateOf(user: TestUser, template = TEMPLATE): Promise<string> {
    const res = await t.http.post('/api/v1/ai/prompts').set(user.auth).send({ name: 'translate', template }).expect(201);
    return res.body.id;
  }

  const lastUserMessage = () => fake.chatRequests().at(-1)!.body.messages.at(-1);
  const storedMessages = (user: TestUser) => t.prisma.message.count({ where: { conversation: { userId: user.id } } });

  it('REST: the rendered text is the user message, sent upstream and stored as such', async () => {
    const user = await registerUser(t);
    const promptId = await templateOf(user);
    const res = await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ promptId, variables: { text: 'good morning', language: 'French' } })
      .expect(201);
    expect(lastUserMessage()).toEqual({ role: 'user', content: 'Translate "good morning" into French.' });
    expect(res.body.content).toBe('Echo: Translate "good morning" into French.');
    const question = await t.prisma.message.findFirstOrThrow({ where: { conversationId: res.body.conversationId, role: 'USER' } });
    expect(question.content).toBe('Translate "good morning" into French.');
  });

  it('a value is inserted as written: placeholders and $-patterns in it are not expanded', async () => {
    const user = await registerUser(t);
    const promptId = await templateOf(user);
    await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ promptId, variables: { text: '{{language}} $& $1', language: 'German' } })
      .expect(201);
    expect(lastUserMessage().content).toBe('Translate "{{language}} $& $1" into German.');
  });

  it.each([
    ['a missing variable', { variables: { text: 'hi' } }, 'Missing template variable: language'],
    ['an unknown variable', { variables: { text: 'hi', language: 'Dutch', tone: 'warm' } }, 'Unknown template variable: tone'],
    ['no variables at all', {}, 'Missing template variables: text, language'],
    ['a rendered text over AI_MAX_MESSAGE_LENGTH', { variables: { text: 'x'.repeat(200), language: 'Dutch' } }, expect.stringContaining('AI_MAX_MESSAGE_LENGTH')],
  ])('REST: %s is a 400 naming the problem; nothing is sent or stored', async (_, body, message) => {
    const user = await registerUser(t);
    const promptId = await templateOf(user);
    const res = await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ promptId, ...body })
      .expect(400);
    expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await storedMessages(user)).toBe(0);
  });

  it.each([
    ['both message and promptId', (promptId: string) => ({ message: 'hi', promptId, variables: { text: 'a', language: 'b' } })],
    ['neither message nor promptId', () => ({ conversationId: null })],
    ['variables without promptId', () => ({ message: 'hi', variables: { text: 'a' } })],
    ['variables that are not strings', (promptId: string) => ({ promptId, variables: { text: 1, language: 'b' } })],
    ['variables that are not an object', (promptId: string) => ({ promptId, variables: ['a', 'b'] })],
    ['a malformed promptId', () => ({ promptId: 'not-a-uuid' })],
  ])('REST: %s is a 400 from validation; nothing is sent or stored', async (_, bodyOf) => {
    const user = await registerUser(t);
    const promptId = await templateOf(user);
    const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send(bodyOf(promptId)).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(Array) });
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await storedMessages(user)).toBe(0);
  });

  it("REST: another user's template (or a deleted one) is a 404", async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    const promptId = await templateOf(owner);
    const res = await t.http
      .post('/api/v1/ai/chat')
      .set(other.auth)
      .send({ promptId, variables: { text: 'a', language: 'b' } })
      .expect(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Prompt not found' });
    await t.http.delete(`/api/v1/ai/prompts/${promptId}`).set(owner.auth).expect(204);
    await t.http
      .post('/api/v1/ai/chat')
      .set(owner.auth)
      .send({ promptId, variables: { text: 'a', language: 'b' } })
      .expect(404);
    expect(fake.chatRequests()).toHaveLength(0);
    expect(await storedMessages(other)).toBe(0);
  });

  it('socket: chat:start from a template streams the answer to the rendered text; a bad variable is chat:error 400', async () => {
    const user = await registerUser(t);
    const promptId = await templateOf(user);
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      socket.emit('chat:start', { promptId, variables: { text: 'thanks', language: 'Italian' } });
      expect((await waitForTerminal(events)).event).toBe('chat:end');
      expect(events.find((e) => e.event === 'chat:user-message')?.data.content).toBe('Translate "thanks" into Italian.');

      events.length = 0;
      socket.emit('chat:start', { promptId, variables: { text: 'thanks' } });
      expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { code: 400, message: 'Missing template variable: language' } });
      expect(fake.chatRequests()).toHaveLength(1);
    } finally {
      socket.close();
    }
  });

  it('jobs: rendered at enqueue (a bad variable is refused there), answered by the worker', async () => {
    const user = await registerUser(t);
    const promptId = await templateOf(user);
    const before = await queueOf(t).getJobCounts();
    await t.http
      .post('/api/v1/ai/jobs/completion')
      .set(user.auth)
      .send({ promptId, variables: { language: 'Spanish' } })
      .expect(400);
    expect(await queueOf(t).getJobCounts()).toEqual(before);

    const queued = await t.http
      .post('/api/v1/ai/jobs/completion')
      .set(user.auth)
      .send({ promptId, variables: { text: 'see you', language: 'Spanish' } })
      .expect(202);
    const job = await queueOf(t).getJob(queued.body.jobId);
    expect(job?.data).toMatchObject({ message: 'Translate "see you" into Spanish.' });
    expect(job?.data).not.toHaveProperty('promptId');
    await drainQueue(t);
    const status = await t.http.get(`/api/v1/ai/jobs/${queued.body.jobId}`).set(user.auth).expect(200);
    expect(status.body).toMatchObject({ state: 'completed', result: { content: 'Echo: Translate "see you" into Spanish.' } });
  });
});
