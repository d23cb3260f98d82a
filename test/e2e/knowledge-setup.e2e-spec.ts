import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { eventually } from '../support/eventually';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser } from '../support/factories';
import { createScratchDb, ScratchDb } from '../support/scratch-db';
import { startTestApp, TestApp } from '../support/test-app';
import { connectSocket, recordEvents } from '../support/ws-client';

const VECTOR_OFF = { statusCode: 503, message: 'Vector search needs the pgvector extension', error: 'Service Unavailable' };

describe('knowledge without pgvector (e2e)', () => {
  let fake: FakeLlm;
  let db: ScratchDb;
  let t: TestApp | undefined;

  beforeAll(async () => {
    fake = await startFakeLlm();
    // Migrated with pgvector (this machine has it), then without: as on a server that lacks it.
    db = createScratchDb('novector');
    await db.query('DROP EXTENSION vector CASCADE');
  });
  afterAll(async () => {
    await t?.close();
    await db.drop();
    await fake.close();
  });

  it('starts, serves everything else, answers 503 on every knowledge route and says so in /health', async () => {
    t = await startTestApp({ DATABASE_URL: db.url, OPENAI_BASE_URL: fake.baseUrl });
    const user = await registerUser(t);
    const id = '00000000-0000-4000-8000-000000000000';
    const calls = [
      t.http.post('/api/v1/ai/documents').set(user.auth).send({ title: 'x', text: 'hello' }),
      t.http.post('/api/v1/ai/documents').set(user.auth).attach('file', Buffer.from('hello'), { filename: 'a.txt', contentType: 'text/plain' }),
      t.http.get('/api/v1/ai/documents').set(user.auth),
      t.http.get(`/api/v1/ai/documents/${id}`).set(user.auth),
      t.http.delete(`/api/v1/ai/documents/${id}`).set(user.auth),
      t.http.post('/api/v1/ai/search').set(user.auth).send({ query: 'hello' }),
    ];
    for (const call of calls) {
      const res = await call;
      expect([res.status, res.body]).toEqual([503, VECTOR_OFF]);
    }
    expect(await t.prisma.document.count()).toBe(0);
    expect(fake.requests).toHaveLength(0);

    const health = await t.http.get('/api/v1/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
    expect(health.body.info.vector).toEqual({ status: 'down', available: false, message: 'Vector search needs the pgvector extension' });
    expect(health.body.details.vector).toEqual(health.body.info.vector);

    // A chat turn or a completion job that asks for knowledge is refused the same way, storing nothing.
    const rag = await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'from my notes?', knowledge: true });
    expect([rag.status, rag.body]).toEqual([503, VECTOR_OFF]);
    const ragJob = await t.http
      .post('/api/v1/ai/jobs/completion')
      .set(user.auth)
      .send({ message: 'from my notes?', knowledge: { topK: 2 } });
    expect([ragJob.status, ragJob.body]).toEqual([503, VECTOR_OFF]);
    expect(await t.prisma.message.count({ where: { conversation: { userId: user.id } } })).toBe(0);
    expect(fake.requests).toHaveLength(0);

    // Everything else works.
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'still here?' }).expect(201);
    await t.http.post('/api/v1/ai/embeddings').set(user.auth).send({ text: 'still here' }).expect(200);
    await t.close();
    t = undefined;
  });

  it('turns on once pgvector is there and npm run db:migrate ran again', async () => {
    db.migrate();
    expect(
      await db.query(`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = '"DocumentChunk"'::regclass AND attname = 'embedding'`),
    ).toEqual([{ type: 'vector(1536)' }]);
    t = await startTestApp({ DATABASE_URL: db.url, OPENAI_BASE_URL: fake.baseUrl, AI_JOB_BACKOFF_MS: '10' });
    expect((await t.http.get('/api/v1/health').expect(200)).body.info.vector).toMatchObject({ status: 'up', available: true, dimensions: 1536 });
    const user = await registerUser(t);
    const { id } = (await t.http.post('/api/v1/ai/documents').set(user.auth).send({ title: 'Back', text: 'Vector search is back.' }).expect(202)).body;
    await eventually(async () => (await t!.http.get(`/api/v1/ai/documents/${id}`).set(user.auth).expect(200)).body.status === 'ready', 10_000);
  });

  it('stays off when RAG_EMBEDDING_DIMENSIONS does not match the column', async () => {
    await t?.close();
    t = await startTestApp({ DATABASE_URL: db.url, OPENAI_BASE_URL: fake.baseUrl, RAG_EMBEDDING_DIMENSIONS: '768' });
    expect((await t.http.get('/api/v1/health').expect(200)).body.info.vector).toMatchObject({ status: 'down', available: false });
    const user = await registerUser(t);
    expect((await t.http.post('/api/v1/ai/search').set(user.auth).send({ query: 'x' }).expect(503)).body).toEqual(VECTOR_OFF);
    // With chunks stored, db:migrate refuses to change the dimension rather than drop them.
    expect(() => db.migrate({ RAG_EMBEDDING_DIMENSIONS: '768' })).toThrow(/RAG_EMBEDDING_DIMENSIONS is 768, but the stored chunks have vector\(1536\) embeddings/);
  });
});

describe('knowledge with PROCESS_ROLE api + worker (e2e)', () => {
  let fake: FakeLlm;
  let api: TestApp;
  let worker: TestApp;
  let socket: Socket | undefined;

  beforeAll(async () => {
    fake = await startFakeLlm();
    const shared = { REDIS_PREFIX: `kn${randomBytes(3).toString('hex')}`, OPENAI_BASE_URL: fake.baseUrl };
    api = await startTestApp({ ...shared, PROCESS_ROLE: 'api' });
    worker = await startTestApp({ ...shared, PROCESS_ROLE: 'worker' });
  });
  afterAll(async () => {
    socket?.close();
    await worker.close();
    await api.close();
    await fake.close();
  });

  it('the worker ingests the document and its status reaches the owner on the api instance', async () => {
    const user = await registerUser(api);
    socket = await connectSocket(api.url, user.accessToken);
    const events = recordEvents(socket);
    const { id } = (await api.http.post('/api/v1/ai/documents').set(user.auth).send({ title: 'Remote', text: 'Ingested by the worker.' }).expect(202)).body;
    await eventually(() => events.filter((e) => e.event === 'document:status').length === 2, 10_000);
    expect(events.filter((e) => e.event === 'document:status').map((e) => e.data)).toEqual([
      { id, status: 'processing' },
      { id, status: 'ready' },
    ]);
    expect((await api.http.get(`/api/v1/ai/documents/${id}`).set(user.auth).expect(200)).body).toMatchObject({ status: 'ready', chunkCount: 1 });
  });
});
