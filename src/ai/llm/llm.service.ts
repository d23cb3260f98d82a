import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { costOf } from '../models/model-pricing';
import { ModelRegistry } from '../models/model-registry.service';
import type { ProviderKind, RegisteredModel } from '../models/model.types';
import { LlmCallRecorder } from './llm-call';
import { isFallbackEligible } from './llm-error';
import type { BatchEmbeddingResult, CallContext, CompletionEvent, EmbeddingResult, LlmMessage, ModerationResult } from './llm.types';
import { AnthropicProvider } from './providers/anthropic.provider';
import type { ChatProvider } from './providers/chat-provider';
import { GeminiProvider } from './providers/gemini.provider';
import { OpenAiProvider } from './providers/openai.provider';

export interface ChatCall {
  messages: LlmMessage[];
  maxTokens: number;
  temperature: number;
  isStreamed: boolean;
  signal: AbortSignal;
  context: CallContext;
}

// What a completion ends with, naming the registry model that answered (a fallback, maybe) and
// the call's cost at its prices (null: no price).
export type AnsweredEnd = Extract<CompletionEvent, { type: 'end' }> & { modelId: string; costUsd: number | null };
export type AnsweredEvent = Exclude<CompletionEvent, { type: 'end' }> | AnsweredEnd;

// The models' one door: picks the provider of a registry model and, when its upstream fails before
// the first token with what another model may answer (5xx, 429, timeout, refused connection), tries
// the model's fallbacks in their order. After the first token there is no fallback.
@Injectable()
export class LlmService {
  private readonly providers: Record<ProviderKind, ChatProvider>;

  constructor(
    private readonly openai: OpenAiProvider,
    anthropic: AnthropicProvider,
    gemini: GeminiProvider,
    private readonly models: ModelRegistry,
    private readonly recorder: LlmCallRecorder,
  ) {
    this.providers = { openai, anthropic, gemini };
  }

  async *complete(model: RegisteredModel, call: ChatCall): AsyncGenerator<AnsweredEvent> {
    const candidates = [model, ...model.fallbacks.map((id) => this.models.find(id)).filter((m): m is RegisteredModel => !!m && this.models.isProviderOn(m.provider))];
    for (const [index, candidate] of candidates.entries()) {
      const events = this.providers[candidate.provider].complete(
        { messages: call.messages, upstreamModel: candidate.upstreamModel, maxTokens: call.maxTokens, temperature: call.temperature },
        { isStreamed: call.isStreamed, signal: call.signal, context: { ...call.context, modelId: candidate.id } },
      );
      let first: IteratorResult<CompletionEvent>;
      try {
        first = await events.next();
      } catch (error) {
        const next = candidates[index + 1];
        if (!next || call.signal.aborted || !isFallbackEligible(error)) throw error;
        this.recorder.fallback(candidate.id, next.id, error as AppError, call.context);
        continue;
      }
      try {
        for (let next = first; !next.done; next = await events.next()) {
          yield next.value.type === 'end' ? this.answered(next.value, candidate) : next.value;
        }
      } finally {
        // A caller that stops reading early must still close the provider's call: its body and timers.
        await events.return(undefined);
      }
      return;
    }
  }

  async embed(model: RegisteredModel, text: string, context: CallContext): Promise<EmbeddingResult & { costUsd: number | null }> {
    const provider = this.providers[model.provider];
    if (!provider.embed) throw new AppError('VALIDATION_FAILED', `model ${model.id} cannot embed text`);
    const result = await provider.embed(text, model.upstreamModel, { ...context, modelId: model.id });
    const costUsd = costOf(model.pricing, result.tokens, 0);
    this.recorder.metrics.countCost(model.id, costUsd);
    return { ...result, costUsd };
  }

  async embedBatch(
    model: RegisteredModel,
    texts: string[],
    options: { dimensions?: number },
    context: CallContext,
  ): Promise<BatchEmbeddingResult & { costUsd: number | null }> {
    const provider = this.providers[model.provider];
    if (!provider.embedBatch) throw new AppError('VALIDATION_FAILED', `model ${model.id} cannot embed text`);
    const result = await provider.embedBatch(texts, model.upstreamModel, options, { ...context, modelId: model.id });
    const costUsd = costOf(model.pricing, result.tokens, 0);
    this.recorder.metrics.countCost(model.id, costUsd);
    return { ...result, costUsd };
  }

  // Moderation is OpenAI's endpoint, whichever provider answers the chat.
  moderate(input: string, model: string, timeoutMs: number): Promise<ModerationResult> {
    return this.openai.moderate(input, model, timeoutMs);
  }

  private answered(end: Extract<CompletionEvent, { type: 'end' }>, model: RegisteredModel): AnsweredEnd {
    const costUsd = costOf(model.pricing, end.usage.promptTokens, end.usage.completionTokens);
    this.recorder.metrics.countCost(model.id, costUsd);
    return { ...end, modelId: model.id, costUsd };
  }
}
