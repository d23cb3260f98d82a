import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { BudgetService } from '../../budget/budget.service';
import { AppError } from '../../common/errors/app-error';
import { toClientError } from '../../common/errors/client-error';
import { isTransient } from '../../common/errors/error-codes';
import { AppConfigService } from '../../config/app-config.service';
import { UserEventsPublisher } from '../../realtime/user-events.publisher';
import { VECTOR_UNAVAILABLE_MESSAGE, VectorSupport } from '../../vector/vector-support.service';
import { textTokenCeiling } from '../llm/token-estimator';
import { ChunksRepository } from './chunks.repository';
import { mapDocument } from './document.mapper';
import { extractDocumentText } from './document-text';
import { DocumentsRepository } from './documents.repository';
import { DocumentResponseDto } from './dto/document.dto';
import { DOCUMENT_STATUS_EVENT, DocumentMimeType, DocumentStatusName } from './knowledge.constants';
import { KnowledgeEmbedder } from './knowledge-embedder';
import { splitIntoChunks, TextChunk } from './text-chunker';

export interface IngestionAttempt {
  userId: string;
  documentId: string;
  // Names this job in the usage ledger (`job:<id>`): each batch is recorded under
  // `<attemptKey>:batch:<n>`, so a retried job counts a batch once.
  attemptKey: string;
  // No retry follows a failure of this attempt: the document fails with its reason.
  isLastAttempt: boolean;
  onProgress?: (percent: number) => Promise<unknown>;
  // Runs first; what it throws fails the attempt like any other error (the owner was disabled).
  assertOwnerActive?: () => Promise<void>;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

// The `ingest-document` job: extract the text, split it, embed the chunks in batches and store
// them, then mark the document ready. Each batch holds its worst case against the owner's budget
// first and is stored together with its settled usage; a retry skips the batches an earlier attempt
// stored. A failure that no retry can mend (or the last attempt's) marks the document failed.
@Injectable()
export class DocumentIngestionService {
  private readonly logger = new Logger(DocumentIngestionService.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly chunks: ChunksRepository,
    private readonly embedder: KnowledgeEmbedder,
    private readonly budget: BudgetService,
    private readonly vector: VectorSupport,
    private readonly events: UserEventsPublisher,
    private readonly config: AppConfigService,
  ) {}

  // The ready document; null when it was deleted before or while it was ingested.
  async ingest(attempt: IngestionAttempt): Promise<DocumentResponseDto | null> {
    try {
      return await this.run(attempt);
    } catch (error) {
      const isRetried = !attempt.isLastAttempt && (!(error instanceof AppError) || isTransient(error.code));
      if (!isRetried) await this.fail(attempt, error);
      throw error;
    }
  }

  private async run({ userId, documentId, attemptKey, onProgress, assertOwnerActive }: IngestionAttempt): Promise<DocumentResponseDto | null> {
    await assertOwnerActive?.();
    const found = await this.documents.findWithUploadForUser(documentId, userId);
    if (!found) return null;
    const { document, content } = found;
    // An attempt after one that finished (a stalled job run twice) has nothing to do.
    if (document.status !== 'processing' || !content) return mapDocument(document);
    if (!this.vector.isAvailable) throw new AppError('VECTOR_SEARCH_UNAVAILABLE', VECTOR_UNAVAILABLE_MESSAGE);
    this.announce(userId, documentId, 'processing');

    const text = await extractDocumentText(content, document.mimeType as DocumentMimeType);
    const chunks = splitIntoChunks(text, { chunkTokens: this.config.get('RAG_CHUNK_TOKENS'), overlapTokens: this.config.get('RAG_CHUNK_OVERLAP_TOKENS') });
    if (!chunks.length) throw new AppError('VALIDATION_FAILED', 'The document has no text');
    await onProgress?.(10);

    const embedded = await this.chunks.findEmbeddedDigests(documentId);
    const batchSize = this.config.get('RAG_EMBEDDING_BATCH_SIZE');
    for (let start = 0, n = 0; start < chunks.length; start += batchSize, n++) {
      const batch = chunks.slice(start, start + batchSize);
      const isStored = batch.every((chunk) => embedded.get(chunk.index) === md5(chunk.content));
      if (!isStored && !(await this.embedAndStore(userId, documentId, batch, `${attemptKey}:batch:${n}`))) return null;
      await onProgress?.(10 + Math.floor((85 * Math.min(start + batchSize, chunks.length)) / chunks.length));
    }
    if (!(await this.chunks.finishIngestion(documentId, chunks.length, this.embedder.model.id))) return null;
    this.announce(userId, documentId, 'ready');
    return mapDocument({ ...document, status: 'ready', chunkCount: chunks.length, failedReason: null });
  }

  // False: the document is gone.
  private async embedAndStore(userId: string, documentId: string, batch: TextChunk[], idempotencyKey: string): Promise<boolean> {
    const heldTokens = batch.reduce((sum, chunk) => sum + textTokenCeiling(chunk.content), 0);
    await this.budget.reserve(userId, heldTokens);
    try {
      const { embeddings, usage } = await this.embedder.embed(
        batch.map((chunk) => chunk.content),
        { transport: 'job', userId, requestId: idempotencyKey },
      );
      const rows = batch.map((chunk, i) => ({ index: chunk.index, content: chunk.content, tokens: chunk.tokens, embedding: embeddings[i] }));
      return await this.chunks.storeBatch(documentId, rows, this.budget.settlementOf(userId, { heldTokens, usage, idempotencyKey }));
    } catch (error) {
      // Nothing was stored or settled: the hold goes back.
      await this.budget.release(userId, heldTokens);
      throw error;
    }
  }

  private async fail({ userId, documentId }: IngestionAttempt, error: unknown): Promise<void> {
    const { message } = toClientError(error);
    const reason = Array.isArray(message) ? message.join('; ') : message;
    try {
      if (await this.chunks.failIngestion(documentId, reason)) this.announce(userId, documentId, 'failed');
    } catch (failure) {
      // The job's own failure is what matters to Bull; this one is only logged.
      this.logger.error({ err: failure, documentId }, 'could not mark a document failed');
    }
  }

  private announce(userId: string, id: string, status: DocumentStatusName): void {
    this.events.emitToUser(userId, DOCUMENT_STATUS_EVENT, { id, status });
  }
}
