import { Injectable, Logger } from '@nestjs/common';
import OpenAI, { APIConnectionTimeoutError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { AppConfigService } from '../../config/app-config.service';
import { MetricsService } from '../../metrics/metrics.service';
import { readCompletionChunks } from './completion-chunks';
import { llmNotConfigured, mapLlmError } from './llm-error';
import { CallContext, CompletionEvent, CompletionOptions, CompletionResult, EmbeddingResult, LlmMessage, TokenUsage } from './llm.types';
import { estimatePromptTokens, estimateTextTokens } from './token-estimator';

// The only code that talks to the `openai` SDK. Everything it throws is an AppError from mapLlmError.
@Injectable()
export class OpenAiService {
  private readonly logger = new Logger(OpenAiService.name);
  private readonly client: OpenAI | null;
  private readonly timeoutMs: number;
  private readonly apiKey: string | undefined;

  constructor(
    config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {
    this.timeoutMs = config.get('OPENAI_TIMEOUT_MS');
    this.apiKey = config.get('OPENAI_API_KEY');
    this.client = config.isAiConfigured
      ? new OpenAI({
          // Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) accept any key.
          apiKey: config.get('OPENAI_API_KEY') ?? 'not-needed',
          baseURL: config.get('OPENAI_BASE_URL'),
          organization: config.get('OPENAI_ORG_ID') ?? null,
          timeout: config.get('OPENAI_TIMEOUT_MS'),
          maxRetries: config.get('OPENAI_MAX_RETRIES'),
        })
      : null;
  }

  get isConfigured(): boolean {
    return this.client !== null;
  }

  // One chat completion as events, whether the upstream streams it or answers in one piece, so a
  // chat turn reads both the same way. Aborting `signal` ends a stream early with `isAborted`
  // (the partial text is kept); a whole answer aborted before it arrived just rejects.
  complete(
    messages: LlmMessage[],
    options: CompletionOptions,
    context: CallContext,
    { isStreamed, signal }: { isStreamed: boolean; signal: AbortSignal },
  ): AsyncGenerator<CompletionEvent> {
    return isStreamed ? this.streamCompletion(messages, options, context, signal) : this.wholeCompletion(messages, options, context, signal);
  }

  private async *wholeCompletion(messages: LlmMessage[], options: CompletionOptions, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const result = await this.generateCompletion(messages, options, context, signal);
    if (result.content) yield { type: 'delta', content: result.content };
    yield { type: 'end', model: result.model, finishReason: result.finishReason, usage: result.usage, isAborted: false };
  }

  private async generateCompletion(messages: LlmMessage[], options: CompletionOptions, context: CallContext, signal: AbortSignal): Promise<CompletionResult> {
    const client = this.requireClient();
    this.logger.log(`Generating completion with model: ${options.model}`);
    const startedAt = performance.now();
    try {
      const completion = await client.chat.completions.create(
        { model: options.model, messages, max_tokens: options.maxTokens, temperature: options.temperature },
        { signal },
      );
      const content = completion.choices[0]?.message?.content ?? '';
      const usage = completion.usage ? toUsage(completion.usage) : estimateUsage(messages, content);
      this.recordCall('completion', completion.model || options.model, context, startedAt, usage);
      return { content, model: completion.model || options.model, finishReason: completion.choices[0]?.finish_reason ?? null, usage };
    } catch (error) {
      // Cancelled by the caller (its turn was refused meanwhile): not an upstream failure to count.
      if (signal.aborted) throw error;
      throw this.failed('completion', options.model, context, startedAt, error);
    }
  }

  // Yields the text deltas as they arrive, then exactly one `end` event with the usage: the
  // upstream's when it sent one, else counted offline. An abort through `signal` ends the stream
  // with `isAborted: true` instead of throwing, so the caller can keep the partial answer.
  private async *streamCompletion(messages: LlmMessage[], options: CompletionOptions, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const client = this.requireClient();
    this.logger.log(`Generating streaming completion with model: ${options.model}`);
    const startedAt = performance.now();
    let text = '';
    let model = options.model;
    let finishReason: string | null = null;
    let upstreamUsage: ChatCompletionChunk['usage'] = null;
    // The SDK's timeout (and its retries) end when the response headers arrive; an upstream that
    // then stalls would hold the stream open indefinitely. OPENAI_TIMEOUT_MS without a chunk ends it.
    const stall = new AbortController();
    let stallTimer: NodeJS.Timeout | undefined;
    // Re-armed on every chunk: refresh() restarts the same timer instead of allocating a new one.
    const armStallTimer = () => {
      if (stallTimer) stallTimer.refresh();
      else stallTimer = setTimeout(() => stall.abort(), this.timeoutMs);
    };
    const requestSignal = AbortSignal.any([signal, stall.signal]);
    try {
      // The SDK makes the request (auth, retries, timeout, non-2xx → APIError); the body is read by
      // a lean SSE reader instead of the SDK's Stream, which cost several times the CPU per chunk.
      const response = await client.chat.completions
        .create(
          {
            model: options.model,
            messages,
            max_tokens: options.maxTokens,
            temperature: options.temperature,
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: requestSignal },
        )
        .asResponse();
      armStallTimer();
      for await (const chunk of readCompletionChunks(response, requestSignal)) {
        armStallTimer();
        if (chunk.model) model = chunk.model;
        if (chunk.usage) upstreamUsage = chunk.usage;
        const choice = chunk.choices[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          if (!text) this.metrics.observeTimeToFirstToken(context.modelId ?? model, context.transport, (performance.now() - startedAt) / 1000);
          text += delta;
          yield { type: 'delta', content: delta };
        }
      }
      // The reading ends quietly on an abort; a stall must still fail the stream.
      if (stall.signal.aborted) throw new APIConnectionTimeoutError();
    } catch (error) {
      if (!signal.aborted) throw this.failed('stream', options.model, context, startedAt, stall.signal.aborted ? new APIConnectionTimeoutError() : error, text);
    } finally {
      clearTimeout(stallTimer);
    }
    const usage = upstreamUsage && !signal.aborted ? toUsage(upstreamUsage) : estimateUsage(messages, text);
    this.recordCall('stream', model, context, startedAt, usage, signal.aborted ? 'aborted' : 'ok');
    yield { type: 'end', model, finishReason, usage, isAborted: signal.aborted };
  }

  async createEmbedding(text: string, model: string, context: CallContext): Promise<EmbeddingResult> {
    const client = this.requireClient();
    this.logger.log(`Generating embeddings with model: ${model}`);
    const startedAt = performance.now();
    try {
      const response = await client.embeddings.create({ model, input: text });
      const tokens = response.usage?.total_tokens ?? estimateTextTokens(text);
      const usage: TokenUsage = { promptTokens: tokens, completionTokens: 0, totalTokens: tokens, isEstimated: !response.usage };
      this.recordCall('embedding', response.model || model, context, startedAt, usage);
      return { embedding: response.data[0]?.embedding ?? [], model: response.model || model, tokens };
    } catch (error) {
      throw this.failed('embedding', model, context, startedAt, error);
    }
  }

  private requireClient(): OpenAI {
    if (!this.client) throw llmNotConfigured();
    return this.client;
  }

  // One log line and the metrics of every upstream call.
  // Labelled with the registry id when the caller gave one (the upstream may call its model otherwise).
  private recordCall(kind: string, upstreamModel: string, context: CallContext, startedAt: number, usage: TokenUsage, outcome = 'ok'): void {
    const model = context.modelId ?? upstreamModel;
    const seconds = (performance.now() - startedAt) / 1000;
    this.metrics.observeAiCall({ model, transport: context.transport, kind, outcome, seconds });
    if (kind === 'embedding') {
      this.metrics.countTokens(model, 'embedding', usage.totalTokens);
    } else {
      this.metrics.countTokens(model, 'prompt', usage.promptTokens);
      this.metrics.countTokens(model, 'completion', usage.completionTokens);
    }
    this.logger.log({
      msg: 'ai call',
      ...context,
      kind,
      model,
      outcome,
      latencyMs: Math.round(seconds * 1000),
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
      tokensEstimated: usage.isEstimated,
    });
  }

  private failed(kind: string, upstreamModel: string, context: CallContext, startedAt: number, error: unknown, partialText = '') {
    const model = context.modelId ?? upstreamModel;
    const elapsedMs = performance.now() - startedAt;
    const mapped = mapLlmError(error, { elapsedMs, timeoutMs: this.timeoutMs }, this.apiKey ? [this.apiKey] : []);
    this.metrics.countUpstreamError(mapped.code);
    this.metrics.observeAiCall({ model, transport: context.transport, kind, outcome: 'error', seconds: elapsedMs / 1000 });
    this.logger.warn({
      msg: 'ai call failed',
      ...context,
      kind,
      model,
      outcome: 'error',
      code: mapped.code,
      latencyMs: Math.round(elapsedMs),
      upstream: mapped.details,
      partialChars: partialText.length,
    });
    return mapped;
  }
}

function toUsage(usage: { prompt_tokens: number; completion_tokens?: number; total_tokens: number }): TokenUsage {
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens ?? 0,
    totalTokens: usage.total_tokens,
    isEstimated: false,
  };
}

function estimateUsage(messages: LlmMessage[], completion: string): TokenUsage {
  const promptTokens = estimatePromptTokens(messages);
  const completionTokens = estimateTextTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, isEstimated: true };
}
