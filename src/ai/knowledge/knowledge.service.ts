import { Injectable } from '@nestjs/common';
import { BudgetService } from '../../budget/budget.service';
import { AppError, NotFoundError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import { VECTOR_UNAVAILABLE_MESSAGE, VectorSupport } from '../../vector/vector-support.service';
import type { CallContext } from '../llm/llm.types';
import { textTokenCeiling } from '../llm/token-estimator';
import { ChunksRepository } from './chunks.repository';
import { DocumentsRepository } from './documents.repository';
import { SearchRequestDto, SearchResponseDto } from './dto/search.dto';
import { SEARCH_TOP_K } from './knowledge.constants';
import { KnowledgeEmbedder } from './knowledge-embedder';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RetrievedChunk {
  documentId: string;
  documentTitle: string;
  chunkId: string;
  content: string;
  // Cosine similarity to the query (1 − pgvector's cosine distance): 1 is the same direction.
  score: number;
}

export interface RetrievalOptions {
  // Only these of the user's documents; each must be one of their ready documents.
  documentIds?: string[];
  // 1..20.
  topK: number;
}

// Semantic search over a user's ready documents: the route's `search`, and `retrieve` for callers
// inside the service (retrieval-augmented chat).
@Injectable()
export class KnowledgeService {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly chunks: ChunksRepository,
    private readonly embedder: KnowledgeEmbedder,
    private readonly budget: BudgetService,
    private readonly vector: VectorSupport,
    private readonly config: AppConfigService,
  ) {}

  // False: no pgvector (or no usable vector column); retrieve() then throws a 503.
  get isAvailable(): boolean {
    return this.vector.isAvailable;
  }

  // The user's chunks nearest to `query`, best first, at most topK. The query is embedded with the
  // default embedding model and counts toward the user's usage and budget like POST /embeddings
  // (403 when used up); a user without ready documents gets [] without a model call.
  // Throws VECTOR_SEARCH_UNAVAILABLE (503) without pgvector, NOT_FOUND ('Document not found', 404)
  // when a documentIds entry is not one of the user's ready documents (another user's, a processing
  // or failed one, or none: naming a document that cannot be searched is a mistake to report, not
  // to answer with fewer results), VALIDATION_FAILED (400) for a topK outside 1..20, and the
  // upstream's errors as for POST /embeddings.
  async retrieve(userId: string, query: string, options: RetrievalOptions, context: CallContext): Promise<RetrievedChunk[]> {
    if (!this.isAvailable) throw new AppError('VECTOR_SEARCH_UNAVAILABLE', VECTOR_UNAVAILABLE_MESSAGE);
    const { topK } = options;
    if (!Number.isInteger(topK) || topK < SEARCH_TOP_K.min || topK > SEARCH_TOP_K.max) {
      throw new AppError('VALIDATION_FAILED', `topK must be an integer from ${SEARCH_TOP_K.min} to ${SEARCH_TOP_K.max}`);
    }
    const documentIds = options.documentIds?.length ? [...new Set(options.documentIds)] : undefined;
    // An id that is not even a UUID names no document (and must not reach the uuid comparison).
    if (documentIds?.some((id) => !UUID.test(id))) throw new NotFoundError('Document');
    const ready = await this.documents.countReadyForUser(userId, documentIds);
    if (documentIds && ready !== documentIds.length) throw new NotFoundError('Document');
    if (ready === 0) return [];
    const embedding = await this.embedQuery(userId, query, context);
    return this.chunks.findNearest({
      userId,
      embedding,
      topK,
      documentIds,
      efSearch: Math.max(this.config.get('RAG_HNSW_EF_SEARCH'), topK),
      hasIterativeScan: this.vector.state.hasIterativeScan,
    });
  }

  async search(userId: string, dto: SearchRequestDto, context: CallContext): Promise<SearchResponseDto> {
    return { results: await this.retrieve(userId, dto.query, { documentIds: dto.documentIds, topK: dto.topK }, context) };
  }

  // Held, called, then settled with the call's real tokens (the hold goes back when the call fails).
  private async embedQuery(userId: string, query: string, context: CallContext): Promise<number[]> {
    const heldTokens = textTokenCeiling(query);
    await this.budget.reserve(userId, heldTokens);
    let embedded;
    try {
      embedded = await this.embedder.embed([query], context);
    } catch (error) {
      await this.budget.release(userId, heldTokens);
      throw error;
    }
    await this.budget.settle(userId, { heldTokens, usage: embedded.usage });
    return embedded.embeddings[0];
  }
}
