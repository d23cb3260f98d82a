import { Injectable } from '@nestjs/common';
import { BudgetService } from '../../budget/budget.service';
import { AppConfigService } from '../../config/app-config.service';
import { llmNotConfigured } from '../llm/llm-error';
import type { AiTransport } from '../llm/llm.types';
import { OpenAiService } from '../llm/openai.service';
import { textTokenCeiling } from '../llm/token-estimator';
import { EmbeddingRequestDto, EmbeddingResponseDto } from './dto/embedding.dto';
import { EmbeddingRecordRepository } from './embedding-record.repository';

@Injectable()
export class EmbeddingService {
  constructor(
    private readonly config: AppConfigService,
    private readonly budget: BudgetService,
    private readonly llm: OpenAiService,
    private readonly records: EmbeddingRecordRepository,
  ) {}

  // Held against the budget like a chat turn's worst case, then recorded and settled with the
  // call's real tokens in one statement. `idempotencyKey` (jobs): a retried call whose tokens were
  // already counted is not counted again.
  async createEmbedding(
    userId: string,
    dto: EmbeddingRequestDto,
    { transport, requestId, idempotencyKey }: { transport: AiTransport; requestId?: string; idempotencyKey?: string },
  ): Promise<EmbeddingResponseDto> {
    if (!this.llm.isConfigured) throw llmNotConfigured();
    const model = dto.model ?? this.config.get('OPENAI_EMBEDDING_MODEL');
    const heldTokens = textTokenCeiling(dto.text);
    await this.budget.reserve(userId, heldTokens);
    try {
      const result = await this.llm.createEmbedding(dto.text, model, { transport, userId, requestId });
      const settlement = this.budget.settlementOf(userId, { tokens: result.tokens, heldTokens });
      const isRecorded = await this.records.recordCall({ userId, model: result.model, tokens: result.tokens, idempotencyKey }, settlement);
      if (!isRecorded) await this.budget.release(userId, heldTokens);
      return { embedding: result.embedding, model: result.model, tokens: result.tokens };
    } catch (error) {
      await this.budget.release(userId, heldTokens);
      throw error;
    }
  }
}
