import { Injectable } from '@nestjs/common';
import { toSql } from 'pgvector';
import type { BudgetChange } from '../../budget/budget.types';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export interface EmbeddedChunk {
  index: number;
  content: string;
  tokens: number;
  embedding: number[];
}

export interface ChunkMatch {
  chunkId: string;
  documentId: string;
  documentTitle: string;
  content: string;
  score: number;
}

export interface NearestQuery {
  userId: string;
  embedding: number[];
  topK: number;
  documentIds?: string[];
  efSearch: number;
  // pgvector >= 0.8 only.
  hasIterativeScan: boolean;
}

const FOREIGN_KEY_VIOLATION = '23503';

// The SQL of document chunks and their vectors. The `embedding` column is not in the Prisma schema
// (it exists only where pgvector does), so these statements are raw; vectors travel as pgvector's
// text form ('[0.1,0.2,...]') and are cast to `vector` in SQL.
@Injectable()
export class ChunksRepository {
  constructor(private readonly prisma: PrismaService) {}

  // md5 of each chunk of the document that has its vector already, by index: what a retried
  // ingestion need not embed again.
  async findEmbeddedDigests(documentId: string): Promise<Map<number, string>> {
    const rows = await this.prisma.$queryRaw<Array<{ index: number; digest: string }>>`
      SELECT "index", md5("content") AS "digest" FROM "DocumentChunk" WHERE "documentId" = ${documentId}::uuid AND "embedding" IS NOT NULL`;
    return new Map(rows.map((row) => [row.index, row.digest]));
  }

  // One batch of chunks with their vectors, and the budget's settlement of the call that embedded
  // them, in one statement: both commit or neither. A chunk already at its index (an earlier
  // attempt) is replaced, and the settlement counts once per idempotency key, so a retry stores
  // and counts nothing twice. False: the document was deleted meanwhile (nothing stored; the call
  // is still counted, its tokens were spent).
  async storeBatch(documentId: string, chunks: EmbeddedChunk[], settlement: BudgetChange): Promise<boolean> {
    const column = <K extends keyof EmbeddedChunk>(key: K) => chunks.map((chunk) => chunk[key]);
    try {
      const [{ stored }] = await this.prisma.$queryRaw<Array<{ stored: number }>>`
        WITH ${settlement.toCtes()},
        stored AS (
          INSERT INTO "DocumentChunk" ("id", "documentId", "index", "content", "tokens", "embedding")
          SELECT gen_random_uuid(), ${documentId}::uuid, c."index", c."content", c."tokens", c."embedding"::vector
          FROM unnest(${column('index')}::int[], ${column('content')}::text[], ${column('tokens')}::int[], ${chunks.map((c) => vectorText(c.embedding))}::text[])
            AS c("index", "content", "tokens", "embedding")
          WHERE EXISTS (SELECT 1 FROM "Document" WHERE "id" = ${documentId}::uuid)
          ON CONFLICT ("documentId", "index") DO UPDATE SET "content" = EXCLUDED."content", "tokens" = EXCLUDED."tokens", "embedding" = EXCLUDED."embedding"
          RETURNING 1
        )
        SELECT count(*)::int AS "stored" FROM stored`;
      return stored > 0;
    } catch (error) {
      // Deleted between the check and the insert.
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  // The end of an ingestion, in one statement: the document becomes ready, and chunks past the new
  // count (a longer earlier attempt) and the uploaded bytes go. False: it is not processing any more
  // (deleted meanwhile, or ended by another run of the job), and nothing changed.
  async finishIngestion(documentId: string, chunkCount: number, embeddingModel: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<unknown[]>`
      WITH ready AS (
        UPDATE "Document" SET "status" = 'ready', "chunkCount" = ${chunkCount}::int, "embeddingModel" = ${embeddingModel}, "failedReason" = NULL, "updatedAt" = now()
        WHERE "id" = ${documentId}::uuid AND "status" = 'processing'
        RETURNING "id"
      ),
      extra AS (DELETE FROM "DocumentChunk" WHERE "documentId" IN (SELECT "id" FROM ready) AND "index" >= ${chunkCount}::int),
      upload AS (DELETE FROM "DocumentUpload" WHERE "documentId" IN (SELECT "id" FROM ready))
      SELECT 1 FROM ready`;
    return rows.length === 1;
  }

  // A failed ingestion keeps nothing but the document and its reason. Only a document still
  // processing fails (a ready one keeps its chunks); false otherwise, and nothing changed.
  async failIngestion(documentId: string, reason: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<unknown[]>`
      WITH failed AS (
        UPDATE "Document" SET "status" = 'failed', "failedReason" = ${reason}, "updatedAt" = now()
        WHERE "id" = ${documentId}::uuid AND "status" = 'processing'
        RETURNING "id"
      ),
      chunks AS (DELETE FROM "DocumentChunk" WHERE "documentId" IN (SELECT "id" FROM failed)),
      upload AS (DELETE FROM "DocumentUpload" WHERE "documentId" IN (SELECT "id" FROM failed))
      SELECT 1 FROM failed`;
    return rows.length === 1;
  }

  // The user's ready chunks nearest to `embedding` by cosine distance, best first. The HNSW index
  // finds candidates before the user and status filter applies; with pgvector >= 0.8 the scan goes
  // on until it has topK rows that pass it (iterative scan, bounded by hnsw.max_scan_tuples), so a
  // user with few chunks among many still gets topK. `relaxed_order` may return them slightly out
  // of order, hence the sort again outside.
  async findNearest({ userId, embedding, topK, documentIds, efSearch, hasIterativeScan }: NearestQuery): Promise<ChunkMatch[]> {
    const vector = vectorText(embedding);
    const onlyDocuments = documentIds?.length ? Prisma.sql`AND d."id" = ANY(${documentIds}::uuid[])` : Prisma.empty;
    return this.prisma.$transaction(async (tx) => {
      // With the iterative scan, enable_seqscan is off for this transaction: the vectors live out of
      // line (TOAST), so the planner prices a full scan far below its real cost and never picks the
      // HNSW index (20,000 chunks: a 124 ms scan against 2.6 ms through the index, same results),
      // while the iterative scan keeps a user's chunks reachable however few they are. Without it
      // (pgvector < 0.8) a filtered index scan could return fewer than topK: the planner chooses.
      await (hasIterativeScan
        ? tx.$queryRaw`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true), set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('enable_seqscan', 'off', true)`
        : tx.$queryRaw`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true)`);
      return tx.$queryRaw<ChunkMatch[]>`
        WITH nearest AS MATERIALIZED (
          SELECT c."id", c."documentId", d."title", c."content", c."embedding" <=> ${vector}::vector AS "distance"
          FROM "DocumentChunk" c JOIN "Document" d ON d."id" = c."documentId"
          WHERE d."userId" = ${userId}::uuid AND d."status" = 'ready' ${onlyDocuments}
          ORDER BY c."embedding" <=> ${vector}::vector
          LIMIT ${topK}::int
        )
        SELECT "id" AS "chunkId", "documentId", "title" AS "documentTitle", "content", (1 - "distance")::float8 AS "score"
        FROM nearest ORDER BY "distance", "id"`;
    });
  }
}

// pgvector's text form of a vector; the package's typings say `any`.
const vectorText = (embedding: number[]): string => toSql(embedding) as string;

function isForeignKeyViolation(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ''} ${(error as Error)?.message ?? ''}`;
  return text.includes(FOREIGN_KEY_VIOLATION) || /foreign key constraint/i.test(text);
}
