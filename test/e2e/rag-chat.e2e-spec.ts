import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import { drainQueue } from '../support/queue';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents, waitForTerminal } from '../support/ws-client';

const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);
const citationOf = (index: number, documentId: string, documentTitle: string) => ({ index, documentId, documentTitle, chunkId: anyId, score: expect.any(Number) });

const GARDEN = 'Tomatoes need full sun, deep watering twice a week, and stakes once the plants reach knee height.';
const ENGINE = 'The diesel engine needs its oil changed every ten thousand kilometres and its fuel filter every year.';

describe('retrieval-augmented chat (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '10' });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  async function readyDocument(user: TestUser, title: string, text: string): Promise<string> {
    const res = await t.http.post('/api/v1/ai/documents').set(user.auth).send({ title, text }).expect(202);
    await drainQueue(t);
    const document = await t.http.get(`/api/v1/ai/documents/${res.body.id}`).set(user.auth).expect(200);
    expect(document.body.status).toBe('ready');
    return res.body.id;
  }

  const lastChat = () => fake.chatRequests().at(-1)!.body.messages as Array<{ role: string; content: string }>;

  it('REST: the top chunks go to the model as numbered sources before the question; the answer carries citations, stored with it', async () => {
    const user = await registerUser(t);
    const garden = await readyDocument(user, 'Garden notes', GARDEN);
    const engine = await readyDocument(user, 'Engine manual', ENGINE);
    fake.reset();

    const res = await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ message: 'How often should tomatoes get watering?', knowledge: { topK: 2 } })
      .expect(201);

    // One query embedding, then the chat call.
    expect(fake.embeddingRequests().map((r) => r.body.input)).toEqual([['How often should tomatoes get watering?']]);
    const messages = lastChat();
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'How often should tomatoes get watering?' });
    const sources = messages.at(-2)!;
    expect(sources.role).toBe('system');
    expect(sources.content).toContain(`[1] Garden notes\n${GARDEN}`);
    expect(sources.content).toContain(`[2] Engine manual\n${ENGINE}`);

    expect(res.body.citations).toEqual([citationOf(1, garden, 'Garden notes'), citationOf(2, engine, 'Engine manual')]);
    expect(res.body.citations[0].score).toBeGreaterThan(res.body.citations[1].score);
    const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: res.body.messageId } });
    expect(stored.citations).toEqual(res.body.citations);
    const detail = await t.http.get(`/api/v1/ai/conversations/${res.body.conversationId}`).set(user.auth).expect(200);
    expect(detail.body.messages.map((m: { citations: unknown }) => m.citations)).toEqual([null, res.body.citations]);
  });

  it('knowledge: true uses every ready document of the user, topK 5 by default; documentIds narrows it', async () => {
    const user = await registerUser(t);
    const garden = await readyDocument(user, 'Garden notes', GARDEN);
    await readyDocument(user, 'Engine manual', ENGINE);

    const all = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'oil change interval', knowledge: true }).expect(201);
    expect(all.body.citations).toHaveLength(2);
    expect(all.body.citations[0].documentTitle).toBe('Engine manual');

    const only = await t.http
      .post('/api/v1/ai/chat')
      .set(user.auth)
      .send({ message: 'oil change interval', knowledge: { documentIds: [garden] } })
      .expect(201);
    expect(only.body.citations).toEqual([citationOf(1, garden, 'Garden notes')]);
  });

  it("never cites another user's documents", async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    await readyDocument(owner, 'Garden notes', GARDEN);
    const res = await t.http.post('/api/v1/ai/chat').set(other.auth).send({ message: 'tomatoes watering', knowledge: true }).expect(201);
    expect(res.body.citations).toEqual([]);
    // No sources: the prompt is the plain one.
    expect(lastChat().filter((m) => m.role === 'system')).toEqual([]);
  });

  it('a turn without knowledge has no citations field and makes no embedding call', async () => {
    const user = await registerUser(t);
    await readyDocument(user, 'Garden notes', GARDEN);
    fake.reset();
    const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hello', knowledge: false }).expect(201);
    expect(res.body).not.toHaveProperty('citations');
    expect(fake.embeddingRequests()).toHaveLength(0);
    const stored = await t.prisma.message.findUniqueOrThrow({ where: { id: res.body.messageId } });
    expect(stored.citations).toBeNull();
  });

  it('the query embedding counts toward usage', async () => {
    const user = await registerUser(t);
    await readyDocument(user, 'Garden notes', GARDEN);
    const before = await t.prisma.usageRecord.count({ where: { userId: user.id, kind: 'embedding' } });
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'tomatoes', knowledge: true }).expect(201);
    expect(await t.prisma.usageRecord.count({ where: { userId: user.id, kind: 'embedding' } })).toBe(before + 1);
    const row = await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    const ledger = await t.prisma.usageRecord.aggregate({ where: { userId: user.id }, _sum: { tokens: true } });
    expect(row.totalTokensUsed).toBe(ledger._sum.tokens);
    expect(row.reservedTokens).toBe(0);
  });

  it('socket: chat:end carries the citations', async () => {
    const user = await registerUser(t);
    const garden = await readyDocument(user, 'Garden notes', GARDEN);
    const socket = await connectSocket(t.url, user.accessToken);
    try {
      const events = recordEvents(socket);
      socket.emit('chat:start', { message: 'tomato stakes', knowledge: { topK: 1 } });
      const end = await waitForTerminal(events);
      expect(end.event).toBe('chat:end');
      expect(end.data.citations).toEqual([citationOf(1, garden, 'Garden notes')]);
    } finally {
      socket.close();
    }
  });

  it('jobs: a completion job with knowledge stores and returns the citations', async () => {
    const user = await registerUser(t);
    const engine = await readyDocument(user, 'Engine manual', ENGINE);
    const queued = await t.http
      .post('/api/v1/ai/jobs/completion')
      .set(user.auth)
      .send({ message: 'fuel filter', knowledge: { topK: 1 } })
      .expect(202);
    await drainQueue(t);
    const job = await t.http.get(`/api/v1/ai/jobs/${queued.body.jobId}`).set(user.auth).expect(200);
    expect(job.body.state).toBe('completed');
    expect(job.body.result.citations).toEqual([citationOf(1, engine, 'Engine manual')]);
  });

  it.each([[{ topK: 0 }], [{ topK: 21 }], [{ topK: 2.5 }], [{ documentIds: ['not-a-uuid'] }], [{ documentIds: 'all' }], [{ everything: true }], ['yes'], [5]])(
    'knowledge %p is a 400; nothing is sent or stored',
    async (knowledge) => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'hi', knowledge }).expect(400);
      expect(res.body.message.join(' ')).toContain('knowledge must be true or { documentIds?, topK? }');
      expect(fake.chatRequests()).toHaveLength(0);
      expect(await t.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(0);
    },
  );
});
