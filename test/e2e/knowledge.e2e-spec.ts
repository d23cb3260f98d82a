import type { Socket } from 'socket.io-client';
import { eventually } from '../support/eventually';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser } from '../support/factories';
import type { Json } from '../support/json';
import { buildPdf } from '../support/pdf';
import { drainQueue } from '../support/queue';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, RecordedEvent, recordEvents } from '../support/ws-client';

const DOCUMENTS = '/api/v1/ai/documents';
const SEARCH = '/api/v1/ai/search';
const MAX_BYTES = 20_000;
const BATCH_SIZE = 4;
const anyDate = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
const anyId = expect.stringMatching(/^[0-9a-f-]{36}$/);

// Texts whose vocabularies barely overlap, so the fake upstream's bag-of-words vectors rank them.
const TOPICS = {
  rockets: 'Rockets launch satellites into orbit. Rocket engines burn fuel to escape gravity. Astronauts ride rockets to the space station.',
  baking: 'Bakers knead dough with yeast. Bread rises slowly in warm ovens. Flour, water and salt make a simple loaf.',
  gardening: 'Gardeners plant tomatoes in spring soil. Roses need sunlight, compost and water. Weeds steal nutrients from vegetables.',
};
// About 20 sentences: several 50-token chunks, so more than one batch.
const longText = (topic: string, sentences = 20) => Array.from({ length: sentences }, (_, i) => `Paragraph ${i} about ${topic} has plenty of words in it.`).join(' ');
// What the fake upstream counts for an input (test/support/fake-llm.mjs).
const fakeTokens = (text: string) => Math.ceil(text.length / 4);

interface ChunkRow {
  index: number;
  content: string;
  tokens: number;
  dimensions: number;
}

describe('knowledge: documents and search (e2e)', () => {
  let fake: FakeLlm;
  let t: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      OPENAI_BASE_URL: fake.baseUrl,
      AI_RATE_LIMIT: '1000',
      AI_JOB_BACKOFF_MS: '10',
      DOCUMENT_MAX_BYTES: String(MAX_BYTES),
      RAG_CHUNK_TOKENS: '50',
      RAG_CHUNK_OVERLAP_TOKENS: '10',
      RAG_EMBEDDING_BATCH_SIZE: String(BATCH_SIZE),
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await drainQueue(t);
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const upload = (user: TestUser, file: { name: string; type: string; content: Buffer | string }, title?: string) => {
    const req = t.http.post(DOCUMENTS).set(user.auth);
    if (title !== undefined) req.field('title', title);
    return req.attach('file', Buffer.from(file.content), { filename: file.name, contentType: file.type });
  };
  const createText = async (user: TestUser, title: string, text: string) => (await t.http.post(DOCUMENTS).set(user.auth).send({ title, text }).expect(202)).body;
  const documentOf = async (user: TestUser, id: string) => (await t.http.get(`${DOCUMENTS}/${id}`).set(user.auth).expect(200)).body;
  const settled = (user: TestUser, id: string) =>
    eventually(
      async () => {
        const document = await documentOf(user, id);
        return document.status !== 'processing' && document;
      },
      15_000,
      30,
    );
  const ready = async (user: TestUser, title: string, text: string) => {
    const { id } = await createText(user, title, text);
    expect(await settled(user, id)).toMatchObject({ status: 'ready' });
    return id as string;
  };
  const chunksOf = (documentId: string) =>
    t.prisma.$queryRawUnsafe<ChunkRow[]>(
      `SELECT "index", "content", "tokens", vector_dims("embedding") AS "dimensions" FROM "DocumentChunk" WHERE "documentId" = $1::uuid ORDER BY "index"`,
      documentId,
    );
  const search = async (user: TestUser, body: object) => (await t.http.post(SEARCH).set(user.auth).send(body).expect(200)).body.results as Json[];
  const socketOf = async (user: TestUser) => {
    const socket = await connectSocket(t.url, user.accessToken);
    sockets.push(socket);
    return recordEvents(socket);
  };
  const statusEvents = (events: RecordedEvent[]) => events.filter((e) => e.event === 'document:status').map((e) => e.data);
  const usageOf = async (user: TestUser) => ({
    records: await t.prisma.usageRecord.findMany({ where: { userId: user.id }, orderBy: { idempotencyKey: 'asc' } }),
    totalTokensUsed: (await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).totalTokensUsed,
  });

  describe(`POST ${DOCUMENTS}`, () => {
    it('ingests a text file: 202 processing, then ready with its chunks embedded in batches', async () => {
      const user = await registerUser(t);
      const text = longText('orbital mechanics');
      const res = await upload(user, { name: 'notes.txt', type: 'text/plain', content: text }).expect(202);
      expect(res.body).toEqual({ id: anyId, title: 'notes.txt', status: 'processing', jobId: anyId });

      const document = await settled(user, res.body.id);
      const chunks = await chunksOf(res.body.id);
      expect(document).toEqual({
        id: res.body.id,
        title: 'notes.txt',
        mimeType: 'text/plain',
        sizeBytes: Buffer.byteLength(text),
        status: 'ready',
        chunkCount: chunks.length,
        failedReason: null,
        createdAt: anyDate,
      });
      expect(chunks.length).toBeGreaterThan(BATCH_SIZE);
      expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
      for (const chunk of chunks) {
        expect(chunk.dimensions).toBe(1536);
        expect(chunk.tokens).toBeLessThanOrEqual(50);
        expect(text).toContain(chunk.content);
      }
      expect(text.startsWith(chunks[0].content)).toBe(true);
      expect(text.endsWith(chunks.at(-1)!.content)).toBe(true);

      // Batches of RAG_EMBEDDING_BATCH_SIZE, the default embedding model, RAG_EMBEDDING_DIMENSIONS.
      const requests = fake.embeddingRequests();
      expect(requests).toHaveLength(Math.ceil(chunks.length / BATCH_SIZE));
      for (const request of requests) expect(request.body).toMatchObject({ model: 'text-embedding-3-small', dimensions: 1536 });
      expect(requests.flatMap((r) => r.body.input)).toEqual(chunks.map((c) => c.content));
      expect(await t.prisma.documentUpload.count({ where: { documentId: res.body.id } })).toBe(0);

      const job = await t.http.get(`/api/v1/ai/jobs/${res.body.jobId}`).set(user.auth).expect(200);
      expect(job.body).toEqual({ id: res.body.jobId, progress: 100, state: 'completed', result: document, failedReason: null });
    });

    it('ingests Markdown with the given title, also when the client sends it as application/octet-stream', async () => {
      const user = await registerUser(t);
      const markdown = `# Baking\n\n${TOPICS.baking}\n\n- knead\n- proof\n`;
      const declared = await upload(user, { name: 'bread.md', type: 'text/markdown', content: markdown }, 'Bread notes').expect(202);
      expect(declared.body).toMatchObject({ title: 'Bread notes', status: 'processing' });
      const guessed = await upload(user, { name: 'loaf.markdown', type: 'application/octet-stream', content: markdown }).expect(202);
      for (const id of [declared.body.id, guessed.body.id]) {
        expect(await settled(user, id)).toMatchObject({ mimeType: 'text/markdown', status: 'ready', chunkCount: 1, sizeBytes: Buffer.byteLength(markdown) });
        expect((await chunksOf(id)).map((c) => c.content)).toEqual([markdown]);
      }
    });

    it('ingests a PDF through its text', async () => {
      const user = await registerUser(t);
      const pdf = buildPdf(['Rockets launch satellites into orbit.', 'Engines burn fuel to escape gravity.']);
      const res = await upload(user, { name: 'space.pdf', type: 'application/pdf', content: pdf }).expect(202);
      expect(await settled(user, res.body.id)).toMatchObject({ title: 'space.pdf', mimeType: 'application/pdf', sizeBytes: pdf.length, status: 'ready', chunkCount: 1 });
      const [chunk] = await chunksOf(res.body.id);
      expect(chunk.content).toBe('Rockets launch satellites into orbit.\nEngines burn fuel to escape gravity.');
    });

    it('fails a file that is not a readable PDF, with its reason', async () => {
      const user = await registerUser(t);
      const res = await upload(user, { name: 'fake.pdf', type: 'application/pdf', content: 'not a pdf at all' }).expect(202);
      expect(await settled(user, res.body.id)).toMatchObject({ status: 'failed', chunkCount: 0, failedReason: 'The file is not a readable PDF' });
      expect(fake.embeddingRequests()).toHaveLength(0);
    });

    it('ingests JSON { title, text } as text/plain', async () => {
      const user = await registerUser(t);
      const text = `${TOPICS.gardening} Überall wachsen Blumen.`;
      const created = await createText(user, 'Garden', text);
      expect(created).toEqual({ id: anyId, title: 'Garden', status: 'processing', jobId: anyId });
      expect(await settled(user, created.id)).toMatchObject({ title: 'Garden', mimeType: 'text/plain', sizeBytes: Buffer.byteLength(text), status: 'ready' });
    });

    it(`answers 413 to a file over DOCUMENT_MAX_BYTES (${MAX_BYTES}) and to text over it, and stores nothing`, async () => {
      const user = await registerUser(t);
      const big = await upload(user, { name: 'big.txt', type: 'text/plain', content: 'x'.repeat(MAX_BYTES + 1) }).expect(413);
      expect(big.body).toEqual({ statusCode: 413, message: 'File too large', error: 'Payload Too Large' });
      const text = await t.http
        .post(DOCUMENTS)
        .set(user.auth)
        .send({ title: 'big', text: 'é'.repeat(MAX_BYTES / 2 + 1) })
        .expect(413);
      expect(text.body).toEqual({ statusCode: 413, message: `Document is larger than DOCUMENT_MAX_BYTES (${MAX_BYTES} bytes)`, error: 'Payload Too Large' });
      await upload(user, { name: 'fits.txt', type: 'text/plain', content: 'x'.repeat(MAX_BYTES) }).expect(202);
      expect(await t.prisma.document.count({ where: { userId: user.id } })).toBe(1);
    });

    it.each([
      ['an image', 'photo.png', 'image/png'],
      ['a Word file', 'cv.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ['an unknown binary', 'data.bin', 'application/octet-stream'],
    ])('answers 415 to %s and stores nothing', async (_label, name, type) => {
      const user = await registerUser(t);
      const res = await upload(user, { name, type, content: 'bytes' }).expect(415);
      expect(res.body).toEqual({
        statusCode: 415,
        message: 'Unsupported file type: send text/plain, text/markdown, application/pdf',
        error: 'Unsupported Media Type',
      });
      expect(await t.prisma.document.count({ where: { userId: user.id } })).toBe(0);
    });

    it.each([
      ['no file and no text', {}, 'Send a file (multipart/form-data field "file") or JSON { title, text }'],
      ['text without a title', { text: 'hello' }, 'title is required with text'],
      ['an empty text', { title: 'x', text: '' }, ['text must be longer than or equal to 1 characters', 'text must not be blank']],
      ['a blank text', { title: 'x', text: ' \n ' }, ['text must not be blank']],
      ['a blank title', { title: '  ', text: 'hello' }, ['title must not be blank']],
      ['a title of 201 characters', { title: 't'.repeat(201), text: 'hello' }, ['title must be shorter than or equal to 200 characters']],
      ['a text that is not a string', { title: 'x', text: 5 }, ['text must not be blank', 'text must be a string']],
      ['an unknown property', { title: 'x', text: 'hello', status: 'ready' }, ['property status should not exist']],
    ])('answers 400 to %s and stores nothing', async (_label, body, message) => {
      const user = await registerUser(t);
      const res = await t.http.post(DOCUMENTS).set(user.auth).send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: Array.isArray(message) ? expect.arrayContaining(message) : message, error: 'Bad Request' });
      expect(await t.prisma.document.count({ where: { userId: user.id } })).toBe(0);
    });

    it('answers 400 to an empty file, to a file with text, and to a file in another field', async () => {
      const user = await registerUser(t);
      const empty = await upload(user, { name: 'empty.txt', type: 'text/plain', content: '' }).expect(400);
      expect(empty.body).toEqual({ statusCode: 400, message: 'file is empty', error: 'Bad Request' });
      const both = await t.http
        .post(DOCUMENTS)
        .set(user.auth)
        .field('text', 'hello')
        .attach('file', Buffer.from('hi'), { filename: 'a.txt', contentType: 'text/plain' })
        .expect(400);
      expect(both.body.message).toBe('Send either a file or text, not both');
      const field = await t.http.post(DOCUMENTS).set(user.auth).attach('upload', Buffer.from('hi'), { filename: 'a.txt', contentType: 'text/plain' }).expect(400);
      expect(field.body).toEqual({ statusCode: 400, message: expect.stringContaining('Unexpected'), error: 'Bad Request' });
      expect(await t.prisma.document.count({ where: { userId: user.id } })).toBe(0);
    });

    it('answers 403 once the budget is used up, before storing anything', async () => {
      const user = await registerUser(t);
      await t.prisma.user.update({ where: { id: user.id }, data: { totalTokensUsed: 1_000_000 } });
      const res = await t.http.post(DOCUMENTS).set(user.auth).send({ title: 'x', text: 'hello' }).expect(403);
      expect(res.body).toEqual({ statusCode: 403, message: 'Token limit exceeded', error: 'Forbidden' });
      expect(await t.prisma.document.count({ where: { userId: user.id } })).toBe(0);
    });
  });

  describe(`GET and DELETE ${DOCUMENTS}`, () => {
    it("pages the caller's documents newest first", async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      await createText(other, 'not mine', 'hello');
      for (const title of ['d1', 'd2', 'd3']) await createText(user, title, `text of ${title}`);
      const page = await t.http.get(`${DOCUMENTS}?page=1&limit=2`).set(user.auth).expect(200);
      expect(page.body.meta).toEqual({ total: 3, page: 1, limit: 2, totalPages: 2 });
      expect(page.body.data.map((d: Json) => d.title)).toEqual(['d3', 'd2']);
      expect(page.body.data[0]).toEqual({
        id: anyId,
        title: 'd3',
        mimeType: 'text/plain',
        sizeBytes: 10,
        status: expect.stringMatching(/^(processing|ready)$/),
        chunkCount: expect.any(Number),
        failedReason: null,
        createdAt: anyDate,
      });
      await t.http.get(`${DOCUMENTS}?limit=101`).set(user.auth).expect(400);
    });

    it("answers 404 to another user's document on read and delete, and keeps it", async () => {
      const owner = await registerUser(t);
      const intruder = await registerUser(t);
      const id = await ready(owner, 'private', TOPICS.rockets);
      const notFound = { statusCode: 404, message: 'Document not found', error: 'Not Found' };
      expect((await t.http.get(`${DOCUMENTS}/${id}`).set(intruder.auth).expect(404)).body).toEqual(notFound);
      expect((await t.http.delete(`${DOCUMENTS}/${id}`).set(intruder.auth).expect(404)).body).toEqual(notFound);
      expect(await t.prisma.document.count({ where: { id } })).toBe(1);
      expect((await chunksOf(id)).length).toBe(1);
    });

    it('answers 400 to a malformed id', async () => {
      const user = await registerUser(t);
      const res = await t.http.get(`${DOCUMENTS}/123`).set(user.auth).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: 'Validation failed (uuid is expected)', error: 'Bad Request' });
      await t.http.delete(`${DOCUMENTS}/not-a-uuid`).set(user.auth).expect(400);
    });

    it('deletes a document with its chunks, and it leaves search', async () => {
      const user = await registerUser(t);
      const id = await ready(user, 'Rockets', TOPICS.rockets);
      await ready(user, 'Baking', TOPICS.baking);
      expect((await search(user, { query: 'rockets orbit' }))[0].documentId).toBe(id);

      await t.http.delete(`${DOCUMENTS}/${id}`).set(user.auth).expect(204);
      expect(await t.prisma.document.count({ where: { id } })).toBe(0);
      expect(await chunksOf(id)).toEqual([]);
      await t.http.get(`${DOCUMENTS}/${id}`).set(user.auth).expect(404);
      expect((await search(user, { query: 'rockets orbit' })).map((r) => r.documentId)).not.toContain(id);
    });
  });

  describe(`POST ${SEARCH}`, () => {
    it('ranks the document closest to the query first, with cosine similarities best first', async () => {
      const user = await registerUser(t);
      const ids = {
        rockets: await ready(user, 'Rockets', TOPICS.rockets),
        baking: await ready(user, 'Baking', TOPICS.baking),
        gardening: await ready(user, 'Gardening', TOPICS.gardening),
      };
      fake.reset();
      const results = await search(user, { query: 'How do rockets reach orbit?' });
      expect(results).toHaveLength(3);
      expect(results[0]).toEqual({ documentId: ids.rockets, documentTitle: 'Rockets', chunkId: anyId, content: TOPICS.rockets, score: expect.any(Number) });
      expect(results[0].score).toBeGreaterThan(results[1].score);
      expect(results[0].score).toBeLessThanOrEqual(1);
      const scores = results.map((r) => r.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      const [chunk] = await chunksOf(ids.rockets);
      expect(results[0].chunkId).toBe((await t.prisma.documentChunk.findFirstOrThrow({ where: { documentId: ids.rockets, index: chunk.index } })).id);

      expect((await search(user, { query: 'yeast dough bread' }))[0].documentId).toBe(ids.baking);
      expect((await search(user, { query: 'tomatoes and roses in the soil' }))[0].documentId).toBe(ids.gardening);
      // The query is embedded like the chunks: default model, same dimensions.
      expect(fake.embeddingRequests()[0].body).toMatchObject({ model: 'text-embedding-3-small', input: ['How do rockets reach orbit?'], dimensions: 1536 });
    });

    it('returns at most topK results (default 5), only from documentIds when given', async () => {
      const user = await registerUser(t);
      const longId = await ready(user, 'Long', longText('telescopes'));
      const rocketsId = await ready(user, 'Rockets', TOPICS.rockets);
      expect(await search(user, { query: 'telescopes' })).toHaveLength(5);
      expect(await search(user, { query: 'telescopes', topK: 2 })).toHaveLength(2);
      const all = await search(user, { query: 'telescopes', topK: 20 });
      expect(all).toHaveLength((await chunksOf(longId)).length + 1);
      const only = await search(user, { query: 'telescopes', topK: 20, documentIds: [rocketsId] });
      expect(only.map((r) => r.documentId)).toEqual([rocketsId]);
    });

    it("searches the caller's ready documents only: not another user's, not one still processing", async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      const mine = await ready(user, 'Rockets', TOPICS.rockets);
      const theirs = await ready(other, 'Their rockets', TOPICS.rockets);
      fake.reset();
      // The second batch of this document is held up: its first chunks are stored, it is not ready.
      fake.enqueue({}, { delayMs: 3_000 });
      const { id: pending } = await createText(user, 'Pending rockets', longText('rockets'));
      await eventually(async () => fake.embeddingRequests().length === 2 && (await chunksOf(pending)).length >= BATCH_SIZE, 10_000);
      expect((await documentOf(user, pending)).status).toBe('processing');

      const results = await search(user, { query: 'rockets', topK: 20 });
      expect(new Set(results.map((r) => r.documentId))).toEqual(new Set([mine]));
      expect((await search(other, { query: 'rockets', topK: 20 })).map((r) => r.documentId)).toEqual([theirs]);

      const notFound = { statusCode: 404, message: 'Document not found', error: 'Not Found' };
      expect(
        (
          await t.http
            .post(SEARCH)
            .set(user.auth)
            .send({ query: 'rockets', documentIds: [theirs] })
            .expect(404)
        ).body,
      ).toEqual(notFound);
      expect(
        (
          await t.http
            .post(SEARCH)
            .set(user.auth)
            .send({ query: 'rockets', documentIds: [mine, pending] })
            .expect(404)
        ).body,
      ).toEqual(notFound);
      await settled(user, pending);
      expect((await search(user, { query: 'rockets', topK: 20 })).map((r) => r.documentId)).toContain(pending);
    });

    it('answers [] without calling the model when the caller has no ready document', async () => {
      const user = await registerUser(t);
      expect(await search(user, { query: 'anything' })).toEqual([]);
      expect(fake.embeddingRequests()).toHaveLength(0);
    });

    it("counts the query's tokens toward usage and the budget", async () => {
      const user = await registerUser(t);
      await ready(user, 'Rockets', TOPICS.rockets);
      const before = await usageOf(user);
      const query = 'rockets and satellites in orbit';
      await search(user, { query });
      const after = await usageOf(user);
      expect(after.totalTokensUsed - before.totalTokensUsed).toBe(fakeTokens(query));
      expect(after.records).toHaveLength(before.records.length + 1);
      expect(after.records.find((r) => !before.records.some((b) => b.id === r.id))).toMatchObject({
        kind: 'embedding',
        model: 'text-embedding-3-small',
        tokens: fakeTokens(query),
        idempotencyKey: null,
      });
      await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: after.totalTokensUsed } });
      expect((await t.http.post(SEARCH).set(user.auth).send({ query }).expect(403)).body.message).toBe('Token limit exceeded');
    });

    it.each([
      ['no query', {}],
      ['a blank query', { query: '   ' }],
      ['topK 0', { query: 'x', topK: 0 }],
      ['topK 21', { query: 'x', topK: 21 }],
      ['topK null', { query: 'x', topK: null }],
      ['topK 2.5', { query: 'x', topK: 2.5 }],
      ['a malformed document id', { query: 'x', documentIds: ['123'] }],
      ['documentIds that is not an array', { query: 'x', documentIds: 'abc' }],
      ['an unknown property', { query: 'x', userId: '00000000-0000-4000-8000-000000000000' }],
    ])('answers 400 to %s without calling the model', async (_label, body) => {
      const user = await registerUser(t);
      await ready(user, 'Rockets', TOPICS.rockets);
      fake.reset();
      const res = await t.http.post(SEARCH).set(user.auth).send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(Array), error: 'Bad Request' });
      expect(fake.embeddingRequests()).toHaveLength(0);
    });
  });

  describe('ingestion and the budget', () => {
    it('counts each batch once in usage: a UsageRecord per batch, added to totalTokensUsed', async () => {
      const user = await registerUser(t);
      const { id, jobId } = await createText(user, 'Long', longText('comets'));
      await settled(user, id);
      const chunks = await chunksOf(id);
      const { records, totalTokensUsed } = await usageOf(user);
      const batches = Math.ceil(chunks.length / BATCH_SIZE);
      expect(records.map((r) => [r.kind, r.model, r.idempotencyKey])).toEqual(
        Array.from({ length: batches }, (_, n) => ['embedding', 'text-embedding-3-small', `job:${jobId}:batch:${n}`]),
      );
      records.forEach((record, n) => {
        expect(record.tokens).toBe(chunks.slice(n * BATCH_SIZE, (n + 1) * BATCH_SIZE).reduce((sum, c) => sum + fakeTokens(c.content), 0));
      });
      expect(totalTokensUsed).toBe(records.reduce((sum, r) => sum + r.tokens, 0));
      expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).reservedTokens).toBe(0);
    });

    it('fails the job and the document with the reason when the budget runs out mid-way', async () => {
      const user = await registerUser(t);
      const events = await socketOf(user);
      // Admitted while anything is left: the first batch passes the limit, the second is refused.
      await t.prisma.user.update({ where: { id: user.id }, data: { tokenLimit: 1 } });
      const { id, jobId } = await createText(user, 'Too long', longText('budgets'));
      const document = await settled(user, id);
      expect(document).toMatchObject({ status: 'failed', chunkCount: 0, failedReason: 'Token limit exceeded' });
      const job = await t.http.get(`/api/v1/ai/jobs/${jobId}`).set(user.auth).expect(200);
      expect(job.body).toMatchObject({ state: 'failed', failedReason: 'Token limit exceeded', result: null });
      expect(fake.embeddingRequests()).toHaveLength(1);
      const { records, totalTokensUsed } = await usageOf(user);
      expect(records).toHaveLength(1);
      expect(totalTokensUsed).toBe(records[0].tokens);
      expect(await chunksOf(id)).toEqual([]);
      expect(await t.prisma.documentUpload.count({ where: { documentId: id } })).toBe(0);
      await eventually(() => statusEvents(events).length === 2);
      expect(statusEvents(events)).toEqual([
        { id, status: 'processing' },
        { id, status: 'failed' },
      ]);
    });

    it('a retried job stores no chunk twice and counts no batch twice', async () => {
      const user = await registerUser(t);
      // The second batch fails once with a 500 (retried by Bull); the retry skips the first batch.
      fake.enqueue({}, { status: 500 });
      const { id, jobId } = await createText(user, 'Retried', longText('retries', 30));
      const document = await settled(user, id);
      expect(document.status).toBe('ready');
      const chunks = await chunksOf(id);
      expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
      expect(await t.prisma.documentChunk.count({ where: { documentId: id } })).toBe(document.chunkCount);

      const batches = Math.ceil(chunks.length / BATCH_SIZE);
      const requests = fake.embeddingRequests();
      expect(requests).toHaveLength(batches + 1);
      expect(requests[2].body.input).toEqual(requests[1].body.input);
      expect(requests.slice(2).flatMap((r) => r.body.input)).toEqual(chunks.slice(BATCH_SIZE).map((c) => c.content));

      const { records, totalTokensUsed } = await usageOf(user);
      expect(records.map((r) => r.idempotencyKey)).toEqual(Array.from({ length: batches }, (_, n) => `job:${jobId}:batch:${n}`));
      expect(totalTokensUsed).toBe(chunks.reduce((sum, c) => sum + fakeTokens(c.content), 0));
      const job = await t.http.get(`/api/v1/ai/jobs/${jobId}`).set(user.auth).expect(200);
      expect(job.body).toMatchObject({ state: 'completed', result: { id, status: 'ready' } });
    });
  });

  describe('document:status', () => {
    it("reaches every socket of the owner, processing then ready, and no one else's", async () => {
      const owner = await registerUser(t);
      const other = await registerUser(t);
      const [first, second, others] = [await socketOf(owner), await socketOf(owner), await socketOf(other)];
      const { id } = await createText(owner, 'Announced', TOPICS.baking);
      await settled(owner, id);
      for (const events of [first, second]) {
        await eventually(() => statusEvents(events).length === 2);
        expect(statusEvents(events)).toEqual([
          { id, status: 'processing' },
          { id, status: 'ready' },
        ]);
      }
      expect(statusEvents(others)).toEqual([]);
    });
  });

  it('/health says vector search is on', async () => {
    const res = await t.http.get('/api/v1/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
    expect(res.body.info.vector).toEqual({ status: 'up', available: true, version: expect.stringMatching(/^\d+\.\d+/), dimensions: 1536 });
  });
});
