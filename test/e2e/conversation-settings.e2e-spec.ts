import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, waitForTerminal } from '../support/ws-client';

const SERVICE_PROMPT = 'You are the service-wide assistant.';

describe("a conversation's title and own system prompt (e2e)", () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_SYSTEM_PROMPT: SERVICE_PROMPT, AI_MAX_MESSAGE_LENGTH: '500' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const create = (user: TestUser, body: object) => t.http.post('/api/v1/ai/conversations').set(user.auth).send(body);
  const patch = (user: TestUser, id: string, body: object) => t.http.patch(`/api/v1/ai/conversations/${id}`).set(user.auth).send(body);
  const lastSystemPrompt = () => fake.chatRequests().at(-1)!.body.messages[0];

  it('stores a system prompt on create and sends it first, in place of AI_SYSTEM_PROMPT, on REST and socket turns', async () => {
    const user = await registerUser(t);
    const created = await create(user, { title: 'French', systemPrompt: 'Answer in French.' }).expect(201);
    expect(created.body).toMatchObject({ title: 'French', systemPrompt: 'Answer in French.' });

    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hello', conversationId: created.body.id }).expect(201);
    expect(fake.chatRequests()[0].body.messages).toEqual([
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'hello' },
    ]);

    const socket = await connectSocket(t.url, user.accessToken);
    const events = recordEvents(socket);
    socket.emit('chat:start', { message: 'again', conversationId: created.body.id });
    expect((await waitForTerminal(events)).event).toBe('chat:end');
    socket.close();
    expect(lastSystemPrompt()).toEqual({ role: 'system', content: 'Answer in French.' });
    expect(fake.chatRequests()[1].body.messages.filter((m: { role: string }) => m.role === 'system')).toHaveLength(1);
  });

  it('a conversation without its own prompt gets the service-wide one, and lists show the field', async () => {
    const user = await registerUser(t);
    const created = await create(user, {}).expect(201);
    expect(created.body.systemPrompt).toBeNull();
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi', conversationId: created.body.id }).expect(201);
    expect(lastSystemPrompt()).toEqual({ role: 'system', content: SERVICE_PROMPT });
    const list = await t.http.get('/api/v1/ai/conversations').set(user.auth).expect(200);
    expect(list.body.data.map((c: { systemPrompt: string | null }) => c.systemPrompt)).toEqual([null]);
  });

  it('PATCH changes only the fields sent, answers the conversation, and the next turn uses the new prompt', async () => {
    const user = await registerUser(t);
    const created = await create(user, { title: 'Before' }).expect(201);

    const renamed = await patch(user, created.body.id, { title: 'After' }).expect(200);
    expect(renamed.body).toEqual({ ...created.body, title: 'After', updatedAt: expect.any(String) });

    const prompted = await patch(user, created.body.id, { systemPrompt: 'Be terse.' }).expect(200);
    expect(prompted.body).toMatchObject({ id: created.body.id, title: 'After', systemPrompt: 'Be terse.' });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'q', conversationId: created.body.id }).expect(201);
    expect(lastSystemPrompt()).toEqual({ role: 'system', content: 'Be terse.' });

    const cleared = await patch(user, created.body.id, { systemPrompt: null, title: null }).expect(200);
    expect(cleared.body).toMatchObject({ title: null, systemPrompt: null });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'q2', conversationId: created.body.id }).expect(201);
    expect(lastSystemPrompt()).toEqual({ role: 'system', content: SERVICE_PROMPT });

    const detail = await t.http.get(`/api/v1/ai/conversations/${created.body.id}`).set(user.auth).expect(200);
    expect(detail.body).toMatchObject({ title: null, systemPrompt: null, messageCount: 4 });
  });

  it("another user's conversation is 404 on PATCH and stays as it was", async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    const created = await create(owner, { title: 'mine', systemPrompt: 'Mine.' }).expect(201);
    const res = await patch(other, created.body.id, { title: 'stolen', systemPrompt: 'Theirs.' }).expect(404);
    expect(res.body).toEqual({ statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
    await patch(owner, '3f1d2c4b-0000-4000-8000-000000000000', { title: 'x' }).expect(404);
    const stored = await t.prisma.conversation.findUniqueOrThrow({ where: { id: created.body.id } });
    expect({ title: stored.title, systemPrompt: stored.systemPrompt }).toEqual({ title: 'mine', systemPrompt: 'Mine.' });
  });

  it.each([
    ['a blank system prompt', { systemPrompt: '   ' }],
    ['an empty system prompt', { systemPrompt: '' }],
    ['a system prompt over AI_MAX_MESSAGE_LENGTH', { systemPrompt: 'x'.repeat(501) }],
    ['a non-string system prompt', { systemPrompt: 42 }],
    ['a title over 200 characters', { title: 'x'.repeat(201) }],
    ['an unknown field', { title: 'ok', userId: 'someone-else' }],
  ])('PATCH with %s is a 400 that changes nothing', async (_, body) => {
    const user = await registerUser(t);
    const created = await create(user, { title: 'kept', systemPrompt: 'Kept.' }).expect(201);
    const res = await patch(user, created.body.id, body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const stored = await t.prisma.conversation.findUniqueOrThrow({ where: { id: created.body.id } });
    expect({ title: stored.title, systemPrompt: stored.systemPrompt, updatedAt: stored.updatedAt.toISOString() }).toEqual({
      title: 'kept',
      systemPrompt: 'Kept.',
      updatedAt: created.body.updatedAt,
    });
  });

  it('POST with an invalid system prompt is a 400 that creates nothing', async () => {
    const user = await registerUser(t);
    await create(user, { systemPrompt: 'x'.repeat(501) }).expect(400);
    await create(user, { systemPrompt: '' }).expect(400);
    expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
  });

  it('PATCH with a malformed id is a 400; without a token a 401', async () => {
    const user = await registerUser(t);
    await patch(user, 'not-a-uuid', { title: 'x' }).expect(400);
    await t.http.patch('/api/v1/ai/conversations/3f1d2c4b-0000-4000-8000-000000000000').send({ title: 'x' }).expect(401);
  });
});
