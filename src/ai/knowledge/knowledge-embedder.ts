import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import type { CallUsage } from '../../budget/budget.types';
import { LlmService } from '../llm/llm.service';
import type { CallContext } from '../llm/llm.types';
import { ModelRegistry } from '../models/model-registry.service';
import type { RegisteredModel } from '../models/model.types';

export interface EmbeddedTexts {
  embeddings: number[][];
  usage: CallUsage;
}

// Embeds chunks and queries for the vector index: always the default embedding model (vectors of
// different models do not compare), at RAG_EMBEDDING_DIMENSIONS, checked on the answer since the
// column takes no other length. `dimensions` goes only to OpenAI's text-embedding-3 models, which
// shorten their vectors to it; text-embedding-ada-002 and some compatible servers (vLLM) refuse the
// parameter, and a model of fixed size needs the setting to match it anyway.
const TAKES_DIMENSIONS = /^text-embedding-3/;
@Injectable()
export class KnowledgeEmbedder {
  constructor(
    private readonly llm: LlmService,
    private readonly models: ModelRegistry,
    private readonly config: AppConfigService,
  ) {}

  get model(): RegisteredModel {
    return this.models.resolve(undefined, 'embeddings');
  }

  async embed(texts: string[], context: CallContext): Promise<EmbeddedTexts> {
    const model = this.model;
    const dimensions = this.config.get('RAG_EMBEDDING_DIMENSIONS');
    const options = TAKES_DIMENSIONS.test(model.upstreamModel) ? { dimensions } : {};
    const result = await this.llm.embedBatch(model, texts, options, context);
    const wrong = result.embeddings.find((embedding) => embedding?.length !== dimensions);
    if (result.embeddings.length !== texts.length || wrong) {
      throw new AppError(
        'LLM_BAD_REQUEST',
        `The embedding model ${model.id} answered vectors of ${wrong?.length ?? 0} dimensions, not RAG_EMBEDDING_DIMENSIONS (${dimensions})`,
      );
    }
    return {
      embeddings: result.embeddings,
      usage: { kind: 'embedding', model: model.id, promptTokens: result.tokens, completionTokens: 0, totalTokens: result.tokens, costUsd: result.costUsd },
    };
  }
}
