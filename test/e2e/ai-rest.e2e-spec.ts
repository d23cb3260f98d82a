import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe('conversations, embeddings and usage (e2e)', () => {
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

  describe('POST /api/v1/ai/conversations', () => {
    it('creates an empty conversation', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/conversations').set(user.auth).send({ title: 'My AI Chat' }).expect(201);
      expect(res.body).toEqual({
        id: anyId,
        title: 'My AI Chat',
        userId: user.id,
        messageCount: 0,
        systemPrompt: null,
        totalTokens: 0,
        totalCostUsd: 0,
        pinned: false,
        archived: false,
        createdAt: anyDate,
        updatedAt: anyDate,
      });
    });

    it('accepts no title', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/conversations').set(user.auth).send({}).expect(201);
      expect(res.body.title).toBeNull();
    });

    it.each([[{ title: 5 }], [{ title: 'x'.repeat(201) }], [{ title: 'ok', userId: 'someone-else' }]])('answers 400 to %p', async (body) => {
      const user = await registerUser(t);
      await t.http.post('/api/v1/ai/conversations').set(user.auth).send(body).expect(400);
      expect(await t.prisma.conversation.count({ where: { userId: user.id } })).toBe(0);
    });
  });

  describe('GET /api/v1/ai/conversations', () => {
    it('pages the caller’s conversations newest first with meta', async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      await t.http.post('/api/v1/ai/conversations').set(other.auth).send({ title: 'not mine' }).expect(201);
      for (const title of ['c1', 'c2', 'c3', 'c4', 'c5']) {
        await t.http.post('/api/v1/ai/conversations').set(user.auth).send({ title }).expect(201);
      }
      const page1 = await t.http.get('/api/v1/ai/conversations?page=1&limit=2').set(user.auth).expect(200);
      expect(page1.body.meta).toEqual({ total: 5, page: 1, limit: 2, totalPages: 3 });
      expect(page1.body.data.map((c: { title: string }) => c.title)).toEqual(['c5', 'c4']);
      expect(page1.body.data[0]).toEqual({
        id: anyId,
        title: 'c5',
        userId: user.id,
        messageCount: 0,
        systemPrompt: null,
        totalTokens: 0,
        totalCostUsd: 0,
        pinned: false,
        archived: false,
        createdAt: anyDate,
        updatedAt: anyDate,
      });
      const page3 = await t.http.get('/api/v1/ai/conversations?page=3&limit=2').set(user.auth).expect(200);
      expect(page3.body.data.map((c: { title: string }) => c.title)).toEqual(['c1']);
      const defaults = await t.http.get('/api/v1/ai/conversations').set(user.auth).expect(200);
      expect(defaults.body.meta).toEqual({ total: 5, page: 1, limit: 20, totalPages: 1 });
    });

    it('moves a conversation to the top when it gets a message', async () => {
      const user = await registerUser(t);
      const a = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'a' }).expect(201);
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'b' }).expect(201);
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'a again', conversationId: a.body.conversationId }).expect(201);
      const list = await t.http.get('/api/v1/ai/conversations').set(user.auth).expect(200);
      expect(list.body.data[0]).toMatchObject({ id: a.body.conversationId, messageCount: 4, totalTokens: expect.any(Number) });
      expect(list.body.data[0].totalTokens).toBeGreaterThan(0);
    });

    it.each(['page=0', 'limit=0', 'limit=101', 'page=abc', 'limit=2.5', 'sort=asc'])('answers 400 to ?%s', async (query) => {
      const user = await registerUser(t);
      const res = await t.http.get(`/api/v1/ai/conversations?${query}`).set(user.auth).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  describe('GET /api/v1/ai/conversations/:id', () => {
    it('returns the conversation with its messages oldest first', async () => {
      const user = await registerUser(t);
      fake.enqueue(
        { content: 'Answer one', usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 } },
        { content: 'Answer two', usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } },
      );
      const first = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'Question one' }).expect(201);
      const id = first.body.conversationId;
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'Question two', conversationId: id }).expect(201);
      const res = await t.http.get(`/api/v1/ai/conversations/${id}`).set(user.auth).expect(200);
      // A flat conversation is one branch: each message follows the one before, and has no sibling.
      const ids: string[] = res.body.messages.map((m: { id: string }) => m.id);
      const place = (i: number) => ({ id: ids[i], parentId: i === 0 ? null : ids[i - 1], siblingIds: [ids[i]] });
      const question = (content: string) => ({
        id: anyId,
        role: 'USER',
        content,
        promptTokens: null,
        completionTokens: null,
        tokens: null,
        costUsd: null,
        model: null,
        status: 'complete',
        flagged: false,
        categories: [],
        citations: null,
        createdAt: anyDate,
      });
      const answer = (content: string, promptTokens: number, completionTokens: number, tokens: number, costUsd: number) => ({
        id: anyId,
        role: 'ASSISTANT',
        content,
        promptTokens,
        completionTokens,
        tokens,
        costUsd,
        model: 'gpt-4',
        status: 'complete',
        flagged: false,
        categories: [],
        citations: null,
        createdAt: anyDate,
      });
      expect(res.body).toEqual({
        id,
        title: 'Question one',
        systemPrompt: null,
        userId: user.id,
        messageCount: 4,
        totalTokens: 70,
        // gpt-4 at $30 / $60 per million tokens: 20 × 30 + 10 × 60 = 1,200 and 30 × 30 + 10 × 60 = 1,500 millionths.
        totalCostUsd: 0.0027,
        pinned: false,
        archived: false,
        createdAt: anyDate,
        updatedAt: anyDate,
        messages: [
          { ...question('Question one'), ...place(0) },
          { ...answer('Answer one', 20, 10, 30, 0.0012), ...place(1) },
          { ...question('Question two'), ...place(2) },
          { ...answer('Answer two', 30, 10, 40, 0.0015), ...place(3) },
        ],
      });
    });

    it("answers 404 for another user's conversation and 400 for a malformed id", async () => {
      const owner = await registerUser(t);
      const other = await registerUser(t);
      const { body } = await t.http.post('/api/v1/ai/conversations').set(owner.auth).send({ title: 'private' }).expect(201);
      const res = await t.http.get(`/api/v1/ai/conversations/${body.id}`).set(other.auth).expect(404);
      expect(res.body).toEqual({ statusCode: 404, message: 'Conversation not found', error: 'Not Found' });
      const bad = await t.http.get('/api/v1/ai/conversations/123').set(owner.auth).expect(400);
      expect(bad.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  describe('DELETE /api/v1/ai/conversations/:id', () => {
    it('deletes the conversation with its messages and refunds nothing', async () => {
      const user = await registerUser(t);
      const chat = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'to delete' }).expect(201);
      const id = chat.body.conversationId;
      const res = await t.http.delete(`/api/v1/ai/conversations/${id}`).set(user.auth).expect(204);
      expect(res.text).toBe('');
      expect(await t.prisma.message.count({ where: { conversationId: id } })).toBe(0);
      await t.http.get(`/api/v1/ai/conversations/${id}`).set(user.auth).expect(404);
      await t.http.delete(`/api/v1/ai/conversations/${id}`).set(user.auth).expect(404);
      const usage = await t.http.get('/api/v1/ai/usage').set(user.auth).expect(200);
      expect(usage.body).toMatchObject({ totalTokens: chat.body.tokens, conversationsCount: 0, messagesCount: 0 });
    });

    it("answers 404 for another user's conversation and leaves it alone", async () => {
      const owner = await registerUser(t);
      const other = await registerUser(t);
      const { body } = await t.http.post('/api/v1/ai/conversations').set(owner.auth).send({}).expect(201);
      await t.http.delete(`/api/v1/ai/conversations/${body.id}`).set(other.auth).expect(404);
      expect(await t.prisma.conversation.count({ where: { id: body.id } })).toBe(1);
      await t.http.delete('/api/v1/ai/conversations/not-a-uuid').set(owner.auth).expect(400);
    });
  });

  describe('POST /api/v1/ai/embeddings', () => {
    it('returns the vector and counts its tokens', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'Text to generate embeddings for' }).expect(200);
      expect(res.body).toEqual({ embedding: expect.any(Array), model: 'text-embedding-3-small', tokens: 8 });
      expect(res.body.embedding).toHaveLength(8);
      expect(res.body.embedding.every((x: unknown) => typeof x === 'number')).toBe(true);
      expect(fake.embeddingRequests()[0].body).toMatchObject({ model: 'text-embedding-3-small', input: 'Text to generate embeddings for' });
      const records = await t.prisma.usageRecord.findMany({ where: { userId: user.id } });
      expect(records.map((r) => [r.kind, r.model, r.tokens])).toEqual([['embedding', 'text-embedding-3-small', 8]]);
      const me = await t.http.get('/api/v1/auth/me').set(user.auth).expect(200);
      expect(me.body.totalTokensUsed).toBe(8);
    });

    it('forwards the model', async () => {
      const user = await registerUser(t);
      const res = await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'x', model: 'text-embedding-3-large' }).expect(200);
      expect(res.body.model).toBe('text-embedding-3-large');
    });

    it.each([[{}], [{ text: '' }], [{ text: 7 }], [{ text: 'x'.repeat(32001) }], [{ text: 'x', dimensions: 3 }]])('answers 400 to %p', async (body) => {
      const user = await registerUser(t);
      await t.http.post('/api/v1/ai/embeddings').set(user.auth).send(body).expect(400);
      expect(fake.embeddingRequests()).toHaveLength(0);
    });

    it('answers 403 when the budget is used up', async () => {
      const user = await registerUser(t);
      await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 0 } });
      await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'x' }).expect(403);
      expect(fake.embeddingRequests()).toHaveLength(0);
    });
  });

  describe('GET /api/v1/ai/usage', () => {
    it('starts empty with lastUsed null', async () => {
      const user = await registerUser(t);
      const res = await t.http.get('/api/v1/ai/usage').set(user.auth).expect(200);
      expect(res.body).toEqual({ totalTokens: 0, totalCostUsd: 0, conversationsCount: 0, messagesCount: 0, lastUsed: null, byModel: [] });
    });

    it('adds chats and embeddings of the caller only', async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      fake.enqueue({ usage: { prompt_tokens: 60, completion_tokens: 40, total_tokens: 100 } }, { usage: { total_tokens: 50 } });
      await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'one' }).expect(201);
      await t.http.post('/api/v1/ai/chat').set(other.auth).send({ message: 'other' }).expect(201);
      await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'abcd' }).expect(200);
      const res = await t.http.get('/api/v1/ai/usage').set(user.auth).expect(200);
      // gpt-4 at $30 / $60 per million tokens: 60 × 30 + 40 × 60 = 4,200 millionths; the embedding model has no price.
      expect(res.body).toEqual({
        totalTokens: 101,
        totalCostUsd: 0.0042,
        conversationsCount: 1,
        messagesCount: 2,
        lastUsed: anyDate,
        byModel: [
          { model: 'gpt-4', requests: 1, promptTokens: 60, completionTokens: 40, totalTokens: 100, costUsd: 0.0042 },
          { model: 'text-embedding-3-small', requests: 1, promptTokens: 1, completionTokens: 0, totalTokens: 1, costUsd: null },
        ],
      });
    });
  });
});
