import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { eventually } from '../support/eventually';
import { registerUser, TestUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, streamedText, waitForEvent, waitForTerminal } from '../support/ws-client';

type Msg = { id: string; parentId: string | null; siblingIds: string[]; role: string; content: string };
type UpstreamMessage = { role: string; content: string };

describe('conversations that branch: edit, regenerate, branches and the tree (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const chat = (user: TestUser, body: object) => t.http.post('/api/v1/ai/chat').set(user.auth).send(body);
  const regenerate = (user: TestUser, conversationId: string, messageId: string, body: object = {}) =>
    t.http.post(`/api/v1/ai/conversations/${conversationId}/messages/${messageId}/regenerate`).set(user.auth).send(body);
  const detail = (user: TestUser, id: string, query = '') => t.http.get(`/api/v1/ai/conversations/${id}${query}`).set(user.auth);
  const upstream = (i: number): UpstreamMessage[] => fake.chatRequests()[i].body.messages;
  const contents = (messages: { content: string }[]) => messages.map((m) => m.content);

  // Q1 → A1 → Q2 → A2, answered "A1" and "A2".
  async function twoTurns(user: TestUser) {
    fake.enqueue({ content: 'A1' }, { content: 'A2' });
    const first = await chat(user, { message: 'Q1' }).expect(201);
    const conversationId: string = first.body.conversationId;
    const second = await chat(user, { message: 'Q2', conversationId }).expect(201);
    const tree = (await t.http.get(`/api/v1/ai/conversations/${conversationId}/tree`).set(user.auth).expect(200)).body.messages as Msg[];
    const [q1, a1, q2, a2] = tree;
    expect([a1.id, a2.id]).toEqual([first.body.messageId, second.body.messageId]);
    return { conversationId, q1, a1, q2, a2 };
  }

  it('an edit starts a second branch: each branch sends its own path upstream, and the new message follows the branch it extends', async () => {
    const user = await registerUser(t);
    const { conversationId, q1, a1, q2, a2 } = await twoTurns(user);
    fake.reset();

    // Edit Q2: the new question follows A1, beside Q2; the model sees Q1, A1 and the new text only.
    fake.enqueue({ content: 'A2 edited' }, { content: 'A3 on the edit' }, { content: 'A3 on the first branch' });
    const edited = await chat(user, { message: 'Q2 edited', conversationId, parentMessageId: a1.id }).expect(201);
    expect(contents(upstream(0))).toEqual(['Q1', 'A1', 'Q2 edited']);

    // Without parentMessageId the turn follows the newest message: the edited branch.
    await chat(user, { message: 'Q3', conversationId }).expect(201);
    expect(contents(upstream(1))).toEqual(['Q1', 'A1', 'Q2 edited', 'A2 edited', 'Q3']);

    // Back on the first branch: the path to A2, never the edit.
    const onFirst = await chat(user, { message: 'Q3 again', conversationId, parentMessageId: a2.id }).expect(201);
    expect(contents(upstream(2))).toEqual(['Q1', 'A1', 'Q2', 'A2', 'Q3 again']);

    const tree = (await t.http.get(`/api/v1/ai/conversations/${conversationId}/tree`).set(user.auth).expect(200)).body;
    const byContent = new Map<string, Msg>(tree.messages.map((m: Msg) => [m.content, m]));
    const q2e = byContent.get('Q2 edited')!;
    expect(tree.messages.map((m: Msg) => [m.content, m.parentId])).toEqual([
      ['Q1', null],
      ['A1', q1.id],
      ['Q2', a1.id],
      ['A2', q2.id],
      ['Q2 edited', a1.id],
      ['A2 edited', q2e.id],
      ['Q3', edited.body.messageId],
      ['A3 on the edit', byContent.get('Q3')!.id],
      ['Q3 again', a2.id],
      ['A3 on the first branch', byContent.get('Q3 again')!.id],
    ]);
    expect(q2e.siblingIds).toEqual([q2.id, q2e.id]);
    expect(byContent.get('Q2')!.siblingIds).toEqual([q2.id, q2e.id]);
    expect(byContent.get('A1')!.siblingIds).toEqual([a1.id]);
    // Counts cover the whole tree, every branch.
    const stored = await t.prisma.message.findMany({ where: { conversationId } });
    expect(tree).toMatchObject({ messageCount: 10, totalTokens: stored.reduce((sum, m) => sum + (m.tokens ?? 0), 0) });

    // The shown branch is the path to the newest message (the answer on the first branch) ...
    const shown = (await detail(user, conversationId).expect(200)).body;
    expect(contents(shown.messages)).toEqual(['Q1', 'A1', 'Q2', 'A2', 'Q3 again', 'A3 on the first branch']);
    expect(shown.messages[2].siblingIds).toEqual([q2.id, q2e.id]);
    expect(shown.messages.at(-1).id).toBe(onFirst.body.messageId);
    // ... and leafId shows another one, from its first message to that leaf.
    const other = (await detail(user, conversationId, `?leafId=${byContent.get('A3 on the edit')!.id}`).expect(200)).body;
    expect(contents(other.messages)).toEqual(['Q1', 'A1', 'Q2 edited', 'A2 edited', 'Q3', 'A3 on the edit']);
    expect(other.messages.map((m: Msg) => m.parentId)).toEqual([null, ...other.messages.slice(0, -1).map((m: Msg) => m.id)]);
    // A leaf in the middle of a branch shows the path up to it.
    expect(contents((await detail(user, conversationId, `?leafId=${q2e.id}`).expect(200)).body.messages)).toEqual(['Q1', 'A1', 'Q2 edited']);
  });

  it('refuses a parentMessageId that is not a message of the conversation, without storing anything or asking the model', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { conversationId, a1 } = await twoTurns(user);
    const elsewhere = await twoTurns(user);
    const foreign = await twoTurns(other);
    fake.reset();
    const before = await t.prisma.message.count();

    const noConversation = await chat(user, { message: 'x', parentMessageId: a1.id }).expect(400);
    expect(noConversation.body.message).toEqual(expect.arrayContaining(['parentMessageId requires conversationId']));
    await chat(user, { message: 'x', conversationId, parentMessageId: 'not-a-uuid' }).expect(400);
    for (const parentMessageId of [elsewhere.a1.id, foreign.a1.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await chat(user, { message: 'x', conversationId, parentMessageId }).expect(404);
      expect(res.body).toEqual({ statusCode: 404, message: 'Message not found', error: 'Not Found' });
    }
    // Another user's conversation is 404 as a conversation, whatever the message.
    await chat(user, { message: 'x', conversationId: foreign.conversationId, parentMessageId: foreign.a1.id }).expect(404, {
      statusCode: 404,
      message: 'Conversation not found',
      error: 'Not Found',
    });
    expect(await t.prisma.message.count()).toBe(before);
    expect(fake.chatRequests()).toHaveLength(0);

    // leafId follows the same rule on reads.
    await detail(user, conversationId, `?leafId=${elsewhere.a1.id}`).expect(404, { statusCode: 404, message: 'Message not found', error: 'Not Found' });
    await detail(user, conversationId, `?leafId=${foreign.a2.id}`).expect(404);
    await detail(other, conversationId, `?leafId=${a1.id}`).expect(404, { statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
    await detail(user, conversationId, '?leafId=nope').expect(400);
  });

  it('an empty conversation shows no messages and its first turn has no parent', async () => {
    const user = await registerUser(t);
    const { body } = await t.http.post('/api/v1/ai/conversations').set(user.auth).send({ title: 'empty' }).expect(201);
    expect((await detail(user, body.id).expect(200)).body.messages).toEqual([]);
    expect((await t.http.get(`/api/v1/ai/conversations/${body.id}/tree`).set(user.auth).expect(200)).body.messages).toEqual([]);
    await chat(user, { message: 'first', conversationId: body.id }).expect(201);
    const messages = (await detail(user, body.id).expect(200)).body.messages as Msg[];
    expect(messages.map((m) => [m.content.startsWith('Echo') ? 'answer' : m.content, m.parentId, m.siblingIds])).toEqual([
      ['first', null, [messages[0].id]],
      ['answer', messages[0].id, [messages[1].id]],
    ]);
  });

  it('regenerates an answer over REST: a sibling from the same question and history, with the overrides, counted like any turn', async () => {
    const user = await registerUser(t);
    const { conversationId, q1, a1, q2, a2 } = await twoTurns(user);
    fake.reset();
    const usedBefore = (await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed;

    fake.enqueue({ content: 'A2 again', usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } });
    const res = await regenerate(user, conversationId, a2.id, { model: 'gpt-4', temperature: 0.1, maxTokens: 50 }).expect(201);
    expect(res.body).toEqual({
      conversationId,
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      content: 'A2 again',
      model: 'gpt-4',
      tokens: 15,
      costUsd: expect.any(Number),
      createdAt: expect.any(String),
    });
    expect(fake.chatRequests()).toHaveLength(1);
    expect(fake.chatRequests()[0].body).toMatchObject({ temperature: 0.1, max_tokens: 50 });
    expect(contents(upstream(0))).toEqual(['Q1', 'A1', 'Q2']);

    const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: res.body.messageId } });
    expect(stored).toMatchObject({ parentId: q2.id, role: 'ASSISTANT', content: 'A2 again', tokens: 15 });
    // No new question: the conversation gained the answer only.
    const shown = (await detail(user, conversationId).expect(200)).body;
    expect(shown.messageCount).toBe(5);
    expect(shown.messages.map((m: Msg) => m.id)).toEqual([q1.id, a1.id, q2.id, res.body.messageId]);
    expect(shown.messages[3].siblingIds).toEqual([a2.id, res.body.messageId]);
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed).toBe(usedBefore + 15);

    // The next turn follows the newest answer; the first one stays reachable by leafId.
    await chat(user, { message: 'Q3', conversationId }).expect(201);
    expect(contents(upstream(1))).toEqual(['Q1', 'A1', 'Q2', 'A2 again', 'Q3']);
    expect(contents((await detail(user, conversationId, `?leafId=${a2.id}`).expect(200)).body.messages)).toEqual(['Q1', 'A1', 'Q2', 'A2']);

    // Regenerating the first answer: history is the path to its question alone.
    await regenerate(user, conversationId, a1.id).expect(201);
    expect(contents(upstream(2))).toEqual(['Q1']);
  });

  it('refuses to regenerate a question, an unknown or foreign message, and bad settings, storing nothing', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { conversationId, q2, a2 } = await twoTurns(user);
    const foreign = await twoTurns(other);
    fake.reset();
    const before = await t.prisma.message.count();

    expect((await regenerate(user, conversationId, q2.id).expect(400)).body).toEqual({
      statusCode: 400,
      message: 'Only an assistant message can be regenerated',
      error: 'Bad Request',
    });
    await regenerate(user, conversationId, '00000000-0000-4000-8000-000000000000').expect(404, { statusCode: 404, message: 'Message not found', error: 'Not Found' });
    await regenerate(user, conversationId, foreign.a2.id).expect(404, { statusCode: 404, message: 'Message not found', error: 'Not Found' });
    await regenerate(user, foreign.conversationId, foreign.a2.id).expect(404, { statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
    for (const body of [{ temperature: 3 }, { maxTokens: 0 }, { model: 'no-such-model' }, { message: 'not here' }]) {
      await regenerate(user, conversationId, a2.id, body).expect(400);
    }
    await regenerate(user, conversationId, 'abc').expect(400);
    expect(await t.prisma.message.count()).toBe(before);
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('regenerates over the socket with the usual events, and refuses bad or foreign payloads with chat:error', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { conversationId, q2, a2 } = await twoTurns(user);
    fake.reset();
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      fake.enqueue({ content: 'Streamed again', chunkSize: 3 });
      socket.emit('chat:regenerate', { conversationId, messageId: a2.id, temperature: 0.5 });
      const end = await waitForTerminal(events);
      expect(end.event).toBe('chat:end');
      expect(events[0]).toEqual({ event: 'chat:user-message', data: expect.objectContaining({ messageId: q2.id, content: 'Q2', conversationId }) });
      expect(streamedText(events)).toBe('Streamed again');
      expect(end.data).toMatchObject({ conversationId, messageId: expect.any(String), model: 'gpt-4' });
      expect(contents(upstream(0))).toEqual(['Q1', 'A1', 'Q2']);
      expect(fake.chatRequests()[0].body).toMatchObject({ stream: true, temperature: 0.5 });
      expect(await t.prisma.message.findUniqueOrThrow({ where: { id: end.data.messageId } })).toMatchObject({ parentId: q2.id, content: 'Streamed again' });

      for (const [payload, code] of [
        [{ conversationId, messageId: q2.id }, 400],
        [{ conversationId }, 400],
        [{ conversationId, messageId: a2.id, temperature: 9 }, 400],
        [{ conversationId, messageId: '00000000-0000-4000-8000-000000000000' }, 404],
      ] as const) {
        events.length = 0;
        socket.emit('chat:regenerate', payload);
        expect((await waitForEvent(events, 'chat:error')).data.code).toBe(code);
      }
    } finally {
      socket.close();
    }
    const intruder = await connectSocket(t.url, other.accessToken);
    try {
      const events = recordEvents(intruder);
      intruder.emit('chat:regenerate', { conversationId, messageId: a2.id });
      expect(await waitForTerminal(events)).toEqual({ event: 'chat:error', data: { message: 'Conversation not found', code: 404 } });
    } finally {
      intruder.close();
    }
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('chat:start takes parentMessageId too', async () => {
    const user = await registerUser(t);
    const { conversationId, a1 } = await twoTurns(user);
    fake.reset();
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      socket.emit('chat:start', { message: 'Q2 by socket', conversationId, parentMessageId: a1.id });
      expect((await waitForTerminal(events)).event).toBe('chat:end');
      const question = events.find((e) => e.event === 'chat:user-message')!.data;
      expect(await t.prisma.message.findUniqueOrThrow({ where: { id: question.messageId } })).toMatchObject({ parentId: a1.id });
      expect(contents(upstream(0))).toEqual(['Q1', 'A1', 'Q2 by socket']);
    } finally {
      socket.close();
    }
  });

  it('a completion job takes parentMessageId: checked at enqueue, followed when the job runs', async () => {
    const user = await registerUser(t);
    const { conversationId, a1 } = await twoTurns(user);
    const elsewhere = await twoTurns(user);
    fake.reset();
    await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'x', conversationId, parentMessageId: elsewhere.a1.id }).expect(404);
    const queued = await t.http.post('/api/v1/ai/jobs/completion').set(user.auth).send({ message: 'Q2 by job', conversationId, parentMessageId: a1.id }).expect(202);
    const job = await eventually(
      async () => {
        const res = await t.http.get(`/api/v1/ai/jobs/${queued.body.jobId}`).set(user.auth).expect(200);
        return res.body.state === 'completed' && res.body;
      },
      10_000,
      50,
    );
    const answer = await t.prisma.message.findUniqueOrThrow({ where: { id: job.result.messageId } });
    const question = await t.prisma.message.findUniqueOrThrow({ where: { id: answer.parentId! } });
    expect(question).toMatchObject({ content: 'Q2 by job', parentId: a1.id });
    expect(contents(upstream(0))).toEqual(['Q1', 'A1', 'Q2 by job']);
  });

  it('exports a branch as JSON or Markdown, as a download', async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    const { conversationId, a1, a2 } = await twoTurns(user);
    await chat(user, { message: 'Q2 edited', conversationId, parentMessageId: a1.id }).expect(201);

    const json = await t.http.get(`/api/v1/ai/conversations/${conversationId}/export?format=json`).set(user.auth).expect(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.headers['content-disposition']).toBe(`attachment; filename="conversation-${conversationId}.json"`);
    const shown = (await detail(user, conversationId).expect(200)).body;
    expect(JSON.parse(json.text)).toEqual(shown);
    // json is the default format.
    const byDefault = await t.http.get(`/api/v1/ai/conversations/${conversationId}/export`).set(user.auth).expect(200);
    expect(JSON.parse(byDefault.text)).toEqual(shown);

    const md = await fetch(`${t.url}/api/v1/ai/conversations/${conversationId}/export?format=md&leafId=${a2.id}`, { headers: user.auth });
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(md.headers.get('content-disposition')).toBe(`attachment; filename="conversation-${conversationId}.md"`);
    const text = await md.text();
    expect(text.startsWith('# Q1\n')).toBe(true);
    expect(text.match(/^## .*$/gm)!.map((h) => h.split(' · ')[0])).toEqual(['## User', '## Assistant', '## User', '## Assistant']);
    expect(text).toContain('\n\nA2\n');
    expect(text).toMatch(/## Assistant · gpt-4 · \d{4}-\d\d-\d\dT/);
    expect(text).not.toContain('Q2 edited');

    const bad = await t.http.get(`/api/v1/ai/conversations/${conversationId}/export?format=pdf`).set(user.auth).expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    await t.http.get(`/api/v1/ai/conversations/${conversationId}/export?format=md`).set(other.auth).expect(404);
  });
});
