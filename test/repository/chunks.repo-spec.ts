import { Test, TestingModule } from '@nestjs/testing';
import { createHash } from 'node:crypto';
import { ChunksRepository, EmbeddedChunk } from '../../src/ai/knowledge/chunks.repository';
import { BudgetModule } from '../../src/budget/budget.module';
import { BudgetService } from '../../src/budget/budget.service';
import { AppConfigModule } from '../../src/config/config.module';
import { validateEnv } from '../../src/config/env.schema';
import { PrismaModule } from '../../src/prisma/prisma.module';
import { PrismaService } from '../../src/prisma/prisma.service';
import { insertUser } from '../support/repository-module';
import { baseTestEnv } from '../support/test-env';

const DIMENSIONS = 1536;
const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

// A unit vector along `axis`, tilted a little towards `tilt` (so that vectors of one group differ).
function vector(axis: number, tilt = axis, amount = 0): number[] {
  const v = new Array<number>(DIMENSIONS).fill(0);
  v[axis] = 1;
  v[tilt] += amount;
  return v;
}

// Sorting is switched off for the connections of this module, so PostgreSQL orders by distance
// through the HNSW index (as it does for large tables) rather than sorting a user's few rows
// exactly: the case where the user filter applies only after the index has found its candidates.
function withPlannerSettings(url: string): string {
  const withOptions = new URL(url);
  withOptions.searchParams.set('options', '-c enable_sort=off');
  return withOptions.toString();
}

describe('ChunksRepository on PostgreSQL with pgvector', () => {
  let module: TestingModule;
  let prisma: PrismaService;
  let chunks: ChunksRepository;
  let budget: BudgetService;

  beforeAll(async () => {
    module = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(validateEnv(baseTestEnv({ DATABASE_URL: withPlannerSettings(process.env.TEST_DATABASE_URL!) }))), PrismaModule, BudgetModule],
      providers: [ChunksRepository],
    }).compile();
    prisma = module.get(PrismaService);
    chunks = module.get(ChunksRepository);
    budget = module.get(BudgetService);
  });
  afterAll(() => module.close());

  const newDocument = async (userId: string, status: 'processing' | 'ready' = 'processing') =>
    prisma.document.create({ data: { userId, title: 'doc', mimeType: 'text/plain', sizeBytes: 1, status } });
  const rowsOf = (documentId: string) =>
    prisma.$queryRawUnsafe<Array<{ index: number; content: string; first: number }>>(
      `SELECT "index", "content", ("embedding"::real[])[1] AS "first" FROM "DocumentChunk" WHERE "documentId" = $1::uuid ORDER BY "index"`,
      documentId,
    );
  const settlement = (userId: string, tokens: number, idempotencyKey: string) =>
    budget.settlementOf(userId, {
      heldTokens: tokens,
      usage: { kind: 'embedding', model: 'text-embedding-3-small', promptTokens: tokens, completionTokens: 0, totalTokens: tokens, costUsd: null },
      idempotencyKey,
    });
  const chunk = (index: number, content: string, embedding = vector(0)): EmbeddedChunk => ({ index, content, tokens: 3, embedding });

  it('stores a batch with its settlement once: a retry replaces the chunks by index and counts nothing again', async () => {
    const user = await insertUser(prisma);
    const document = await newDocument(user.id);
    await budget.reserve(user.id, 10);
    expect(await chunks.storeBatch(document.id, [chunk(0, 'zero'), chunk(1, 'one')], settlement(user.id, 10, `key-${document.id}`))).toBe(true);
    await budget.reserve(user.id, 10);
    expect(await chunks.storeBatch(document.id, [chunk(0, 'zero'), chunk(1, 'one, again', vector(5))], settlement(user.id, 10, `key-${document.id}`))).toBe(true);

    expect(await rowsOf(document.id)).toEqual([
      { index: 0, content: 'zero', first: 1 },
      { index: 1, content: 'one, again', first: 0 },
    ]);
    expect(await prisma.usageRecord.count({ where: { userId: user.id } })).toBe(1);
    expect(await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ totalTokensUsed: 10, reservedTokens: 0 });
    expect(await chunks.findEmbeddedDigests(document.id)).toEqual(
      new Map([
        [0, md5('zero')],
        [1, md5('one, again')],
      ]),
    );
  });

  it('stores nothing for a deleted document, but still counts the call', async () => {
    const user = await insertUser(prisma);
    const document = await newDocument(user.id);
    await prisma.document.delete({ where: { id: document.id } });
    await budget.reserve(user.id, 7);
    expect(await chunks.storeBatch(document.id, [chunk(0, 'gone')], settlement(user.id, 7, `key-${document.id}`))).toBe(false);
    expect(await prisma.documentChunk.count({ where: { documentId: document.id } })).toBe(0);
    expect(await prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ totalTokensUsed: 7, reservedTokens: 0 });
  });

  it('finishing drops chunks past the new count and the upload; failing drops every chunk, only while processing', async () => {
    const user = await insertUser(prisma);
    const document = await prisma.document.create({
      data: { userId: user.id, title: 'doc', mimeType: 'text/plain', sizeBytes: 1, upload: { create: { content: new Uint8Array([104, 105]) } } },
    });
    await chunks.storeBatch(document.id, [chunk(0, 'a'), chunk(1, 'b'), chunk(2, 'c')], settlement(user.id, 0, `key-${document.id}`));
    expect(await chunks.finishIngestion(document.id, 2, 'text-embedding-3-small')).toBe(true);
    expect((await rowsOf(document.id)).map((r) => r.index)).toEqual([0, 1]);
    expect(await prisma.documentUpload.count({ where: { documentId: document.id } })).toBe(0);
    expect(await prisma.document.findUniqueOrThrow({ where: { id: document.id } })).toMatchObject({
      status: 'ready',
      chunkCount: 2,
      embeddingModel: 'text-embedding-3-small',
    });
    // Ready already: a late failure of another attempt changes nothing.
    expect(await chunks.failIngestion(document.id, 'too late')).toBe(false);
    expect((await rowsOf(document.id)).length).toBe(2);

    const failing = await newDocument(user.id);
    await chunks.storeBatch(failing.id, [chunk(0, 'a')], settlement(user.id, 0, `key-${failing.id}`));
    expect(await chunks.failIngestion(failing.id, 'Token limit exceeded')).toBe(true);
    expect(await rowsOf(failing.id)).toEqual([]);
    expect(await prisma.document.findUniqueOrThrow({ where: { id: failing.id } })).toMatchObject({ status: 'failed', failedReason: 'Token limit exceeded' });
  });

  it("finds a user's few chunks among many nearer ones of another user through the HNSW index (iterative scan)", async () => {
    const crowd = await insertUser(prisma);
    const crowdDocument = await newDocument(crowd.id, 'ready');
    // 400 chunks right next to the query, all another user's.
    await prisma.$executeRawUnsafe(
      `INSERT INTO "DocumentChunk" ("id", "documentId", "index", "content", "tokens", "embedding")
       SELECT gen_random_uuid(), $1::uuid, i, 'crowd ' || i, 1,
              (SELECT array_agg(CASE WHEN j = 1 THEN 1 WHEN j = 2 + i % 500 THEN 0.01 ELSE 0 END)::real[] FROM generate_series(1, ${DIMENSIONS}) j)::vector
       FROM generate_series(0, 399) i`,
      crowdDocument.id,
    );
    const user = await insertUser(prisma);
    const mine = await newDocument(user.id, 'ready');
    const pending = await newDocument(user.id, 'processing');
    await chunks.storeBatch(
      mine.id,
      [chunk(0, 'far', vector(1, 0, 0.1)), chunk(1, 'farther', vector(2, 0, 0.05)), chunk(2, 'nearest of mine', vector(3, 0, 0.5))],
      settlement(user.id, 0, `key-${mine.id}`),
    );
    await chunks.storeBatch(pending.id, [chunk(0, 'not ready', vector(0))], settlement(user.id, 0, `key-${pending.id}`));
    const query = { userId: user.id, embedding: vector(0), topK: 3, efSearch: 40 };

    const found = await chunks.findNearest({ ...query, hasIterativeScan: true });
    expect(found.map((r) => r.content)).toEqual(['nearest of mine', 'far', 'farther']);
    expect(found[0]).toEqual({ chunkId: expect.any(String), documentId: mine.id, documentTitle: 'doc', content: 'nearest of mine', score: expect.any(Number) });
    expect(found[0].score).toBeCloseTo(0.5 / Math.sqrt(1.25), 5);
    expect(found.map((r) => r.score)).toEqual([...found.map((r) => r.score)].sort((a, b) => b - a));
    expect(await chunks.findNearest({ ...query, topK: 1, documentIds: [mine.id], hasIterativeScan: true })).toHaveLength(1);

    // Without the iterative scan the index's 40 candidates are all the crowd's, and the filter
    // leaves nothing: what pgvector before 0.8 would answer.
    expect((await chunks.findNearest({ ...query, hasIterativeScan: false })).length).toBeLessThan(3);
  });
});
