import { randomBytes } from 'node:crypto';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser } from '../support/factories';
import { drainQueue } from '../support/queue';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, waitForEvent, waitForTerminal } from '../support/ws-client';

describe('model-written conversation titles, AI_AUTO_TITLE (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_AUTO_TITLE: 'true', AI_JOB_BACKOFF_MS: '50' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('after the first answer a job asks the default model for a title, stores it, tells every socket of the user and counts its tokens', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const [tab1, tab2, stranger] = await Promise.all([
      connectSocket(t.url, user.accessToken),
      connectSocket(t.url, user.accessToken),
      connectSocket(t.url, other.accessToken),
    ]);
    try {
      const [events1, events2, strangerEvents] = [recordEvents(tab1), recordEvents(tab2), recordEvents(stranger)];
      fake.enqueue(
        { content: 'Volcanoes form where magma reaches the surface.', usage: { prompt_tokens: 10, completion_tokens: 9, total_tokens: 19 } },
        { content: '"Title: How Volcanoes Form."', usage: { prompt_tokens: 60, completion_tokens: 6, total_tokens: 66 } },
      );
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'How do volcanoes form?', model: 'gpt-4' }).expect(201);
      const conversationId = res.body.conversationId;

      const expected = { event: 'conversation:title', data: { conversationId, title: 'How Volcanoes Form' } };
      expect(await waitForEvent(events1, 'conversation:title', 10_000)).toEqual(expected);
      expect(await waitForEvent(events2, 'conversation:title')).toEqual(expected);
      expect((await t.http.get(`/api/v1/ai/conversations/${conversationId}`).set(user.auth).expect(200)).body.title).toBe('How Volcanoes Form');

      // The title request: the default model, the question and the answer, a short answer asked for.
      const [, titleRequest] = fake.chatRequests();
      expect(titleRequest.body).toMatchObject({ model: 'gpt-4', max_tokens: 32 });
      expect(titleRequest.body.messages[0]).toEqual({ role: 'system', content: expect.stringContaining('short title') });
      expect(titleRequest.body.messages[1].content).toContain('How do volcanoes form?');
      expect(titleRequest.body.messages[1].content).toContain('Volcanoes form where magma reaches the surface.');

      // Its tokens count as the user's usage, in the ledger as a title.
      await drainQueue(t);
      expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed).toBe(19 + 66);
      expect(await t.prisma.usageRecord.findMany({ where: { userId: user.id }, select: { kind: true, tokens: true }, orderBy: { createdAt: 'asc' } })).toEqual([
        { kind: 'chat', tokens: 19 },
        { kind: 'title', tokens: 66 },
      ]);
      expect(strangerEvents.filter((e) => e.event === 'conversation:title')).toEqual([]);

      // Only the first answer of a conversation the turn created: later turns ask for no title.
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'And geysers?', conversationId }).expect(201);
      await drainQueue(t);
      expect(fake.chatRequests()).toHaveLength(3);
    } finally {
      for (const socket of [tab1, tab2, stranger]) socket.close();
    }
  });

  it('also after a streamed first answer', async () => {
    const user = await registerUser(t);
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      fake.enqueue({ content: 'Bread needs yeast.' }, { content: 'Baking Bread' });
      socket.emit('chat:start', { message: 'How do I bake bread?' });
      const end = await waitForTerminal(events);
      expect(end.event).toBe('chat:end');
      expect((await waitForEvent(events, 'conversation:title', 10_000)).data).toEqual({ conversationId: end.data.conversationId, title: 'Baking Bread' });
    } finally {
      socket.close();
    }
  });

  it('leaves a title the user set meanwhile, and a conversation deleted meanwhile, alone', async () => {
    const user = await registerUser(t);
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      fake.enqueue({ content: 'An answer.' }, { content: 'Model Title', delayMs: 400 }, { content: 'Another answer.' }, { content: 'Too Late', delayMs: 400 });
      const renamed = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'first question' }).expect(201);
      await t.http.patch(`/api/v1/ai/conversations/${renamed.body.conversationId}`).set(user.auth).send({ title: 'Mine' }).expect(200);
      const deleted = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'second question' }).expect(201);
      await t.http.delete(`/api/v1/ai/conversations/${deleted.body.conversationId}`).set(user.auth).expect(204);
      await drainQueue(t);
      expect((await t.http.get(`/api/v1/ai/conversations/${renamed.body.conversationId}`).set(user.auth).expect(200)).body.title).toBe('Mine');
      expect(events.filter((e) => e.event === 'conversation:title')).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('a failed title call is retried and then given up, leaving the first-message title and returning the hold', async () => {
    const user = await registerUser(t);
    fake.enqueue({ content: 'Answer.' }, { status: 500 }, { status: 500 }, { status: 500 });
    const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'A question about tides' }).expect(201);
    await drainQueue(t);
    expect(fake.chatRequests()).toHaveLength(4);
    const conversation = await t.prisma.conversation.findUniqueOrThrow({ where: { id: res.body.conversationId } });
    expect(conversation.title).toBe('A question about tides');
    expect(await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ reservedTokens: 0 });
    expect(await t.prisma.usageRecord.count({ where: { userId: user.id, kind: 'title' } })).toBe(0);
  });
});

describe('model-written titles with PROCESS_ROLE api + worker, two api instances (e2e)', () => {
  let fake: FakeLlm;
  let apis: TestApp[];
  let worker: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    const shared = { REDIS_PREFIX: `ti${randomBytes(3).toString('hex')}`, OPENAI_BASE_URL: fake.baseUrl, AI_AUTO_TITLE: 'true' };
    apis = [await startTestApp({ ...shared, PROCESS_ROLE: 'api' }), await startTestApp({ ...shared, PROCESS_ROLE: 'api' })];
    worker = await startTestApp({ ...shared, PROCESS_ROLE: 'worker' });
  });
  afterAll(async () => {
    await worker.close();
    for (const api of apis) await api.close();
    await fake.close();
  });

  it('the worker writes the title and conversation:title reaches the owner’s sockets on every api instance', async () => {
    const user = await registerUser(apis[0]);
    const sockets = await Promise.all(apis.map((api) => connectSocket(api.url, user.accessToken)));
    try {
      const events = sockets.map(recordEvents);
      fake.enqueue({ content: 'Tides follow the moon.' }, { content: 'Why Tides Happen' });
      const res = await apis[0].http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'Why are there tides?' }).expect(201);
      for (const recorded of events) {
        expect((await waitForEvent(recorded, 'conversation:title', 10_000)).data).toEqual({ conversationId: res.body.conversationId, title: 'Why Tides Happen' });
      }
      expect((await apis[1].http.get(`/api/v1/ai/conversations/${res.body.conversationId}`).set(user.auth).expect(200)).body.title).toBe('Why Tides Happen');
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});
