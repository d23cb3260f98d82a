import { Injectable } from '@nestjs/common';
import { BudgetService } from '../../budget/budget.service';
import type { AiTransport } from '../llm/llm.types';
import { LlmService } from '../llm/llm.service';
import { textTokenCeiling } from '../llm/token-estimator';
import { ModelRegistry } from '../models/model-registry.service';
import { EmbeddingRequestDto, EmbeddingResponseDto } from './dto/embedding.dto';

@Injectable()
export class EmbeddingService {
  constructor(
    private readonly budget: BudgetService,
    private readonly llm: LlmService,
    private readonly models: ModelRegistry,
  ) {}

  // Held against the budget like a chat turn's worst case, then recorded and settled with the
  // call's real tokens in one statement (BudgetService.settle).
  async createEmbedding(
    userId: string,
    dto: EmbeddingRequestDto,
    { transport, requestId, idempotencyKey }: { transport: AiTransport; requestId?: string; idempotencyKey?: string },
  ): Promise<EmbeddingResponseDto> {
    const model = this.models.resolve(dto.model, 'embeddings');
    const heldTokens = textTokenCeiling(dto.text);
    await this.budget.reserve(userId, heldTokens);
    try {
      const result = await this.llm.embed(model, dto.text, { transport, userId, requestId });
      // A retried job whose call was counted already is not counted again: only its hold goes back.
      await this.budget.settle(userId, {
        heldTokens,
        usage: { kind: 'embedding', model: model.id, promptTokens: result.tokens, completionTokens: 0, totalTokens: result.tokens, costUsd: result.costUsd },
        idempotencyKey,
      });
      return { embedding: result.embedding, model: model.id, tokens: result.tokens };
    } catch (error) {
      await this.budget.release(userId, heldTokens);
      throw error;
    }
  }
}
