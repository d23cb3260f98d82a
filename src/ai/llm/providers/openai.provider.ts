import { Injectable } from '@nestjs/common';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { AppConfigService } from '../../../config/app-config.service';
import { estimateUsage, LlmCall, LlmCallRecorder, StallGuard } from '../llm-call';
import type { BatchEmbeddingResult, CallContext, CompletionEvent, EmbeddingResult, ModerationResult, TokenUsage } from '../llm.types';
import { estimateTextTokens } from '../token-estimator';
import type { ChatRequest } from './chat-provider';
import { readCompletionBatches } from './openai-sse';
import { SdkChatProvider, upstreamFetch } from './sdk-chat-provider';
import { mapStainlessError } from './stainless-error';

const SDK_ERRORS = { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError };

// OpenAI and every OpenAI-compatible server (Ollama, vLLM, LM Studio, Azure's compatible endpoint):
// the only code that talks to the `openai` SDK.
@Injectable()
export class OpenAiProvider extends SdkChatProvider<OpenAI> {
  readonly kind = 'openai' as const;

  constructor(
    config: AppConfigService,
    private readonly recorder: LlmCallRecorder,
  ) {
    const apiKey = config.get('OPENAI_API_KEY');
    const client =
      apiKey || config.get('OPENAI_BASE_URL')
        ? new OpenAI({
            // Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) accept any key.
            apiKey: apiKey ?? 'not-needed',
            baseURL: config.get('OPENAI_BASE_URL'),
            organization: config.get('OPENAI_ORG_ID') ?? null,
            timeout: config.get('OPENAI_TIMEOUT_MS'),
            maxRetries: config.get('OPENAI_MAX_RETRIES'),
            fetch: upstreamFetch,
          })
        : null;
    super(client, config.get('OPENAI_TIMEOUT_MS'), apiKey ? [apiKey] : []);
  }

  protected async *whole(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const call = this.recorder.start('completion', context, request.upstreamModel);
    let completion;
    try {
      completion = await this.sdk().chat.completions.create(
        { model: request.upstreamModel, messages: request.messages, max_tokens: request.maxTokens, temperature: request.temperature },
        { signal },
      );
    } catch (error) {
      // Cancelled by the caller (its turn was refused meanwhile): not an upstream failure to count.
      if (signal.aborted) throw error;
      throw this.failed(call, error);
    }
    const content = completion.choices[0]?.message?.content ?? '';
    const usage = completion.usage ? toUsage(completion.usage) : estimateUsage(request.messages, content);
    call.succeeded(usage);
    if (content) yield { type: 'delta', content };
    yield { type: 'end', model: completion.model || request.upstreamModel, finishReason: completion.choices[0]?.finish_reason ?? null, usage, isAborted: false };
  }

  protected async *stream(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const call = this.recorder.start('stream', context, request.upstreamModel);
    let text = '';
    let model = request.upstreamModel;
    let finishReason: string | null = null;
    let upstreamUsage: ChatCompletionChunk['usage'] = null;
    const stall = new StallGuard(this.timeoutMs);
    const requestSignal = AbortSignal.any([signal, stall.signal]);
    try {
      // The SDK makes the request (auth, retries, timeout, non-2xx → APIError); the body is read by
      // a lean SSE reader instead of the SDK's Stream, which cost several times the CPU per chunk.
      const response = await this.sdk()
        .chat.completions.create(
          {
            model: request.upstreamModel,
            messages: request.messages,
            max_tokens: request.maxTokens,
            temperature: request.temperature,
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: requestSignal },
        )
        .asResponse();
      stall.arm();
      // Deltas that arrived together leave as one: under load a stream's chunks queue up in the
      // socket, and every event passed on costs its encoding and a write to each reader.
      for await (const batch of readCompletionBatches(response, requestSignal)) {
        stall.arm();
        let content = '';
        for (const chunk of batch) {
          if (chunk.model) model = chunk.model;
          if (chunk.usage) upstreamUsage = chunk.usage;
          const choice = chunk.choices[0];
          if (choice?.finish_reason) finishReason = choice.finish_reason;
          const delta = choice?.delta?.content;
          if (delta) content += delta;
        }
        if (content) {
          call.firstToken();
          text += content;
          yield { type: 'delta', content };
        }
      }
      // The reading ends quietly on an abort; a stall must still fail the stream.
      if (stall.hasStalled) throw new APIConnectionTimeoutError();
    } catch (error) {
      if (!signal.aborted) throw this.failed(call, stall.hasStalled ? new APIConnectionTimeoutError() : error, text.length);
    } finally {
      stall.clear();
    }
    const usage = upstreamUsage && !signal.aborted ? toUsage(upstreamUsage) : estimateUsage(request.messages, text);
    call.succeeded(usage, signal.aborted ? 'aborted' : 'ok');
    yield { type: 'end', model, finishReason, usage, isAborted: signal.aborted };
  }

  async embed(text: string, upstreamModel: string, context: CallContext): Promise<EmbeddingResult> {
    const call = this.recorder.start('embedding', context, upstreamModel);
    try {
      const response = await this.sdk().embeddings.create({ model: upstreamModel, input: text });
      const tokens = response.usage?.total_tokens ?? estimateTextTokens(text);
      call.succeeded({ promptTokens: tokens, completionTokens: 0, totalTokens: tokens, isEstimated: !response.usage });
      return { embedding: response.data[0]?.embedding ?? [], model: response.model || upstreamModel, tokens };
    } catch (error) {
      throw this.failed(call, error);
    }
  }

  // One request for many texts; the answer's `index` puts each vector back with its text.
  async embedBatch(texts: string[], upstreamModel: string, { dimensions }: { dimensions?: number }, context: CallContext): Promise<BatchEmbeddingResult> {
    const call = this.recorder.start('embedding', context, upstreamModel);
    try {
      const response = await this.sdk().embeddings.create({ model: upstreamModel, input: texts, ...(dimensions ? { dimensions } : {}) });
      const embeddings: number[][] = new Array<number[]>(texts.length);
      for (const item of response.data) embeddings[item.index] = item.embedding;
      const tokens = response.usage?.total_tokens ?? texts.reduce((sum, text) => sum + estimateTextTokens(text), 0);
      call.succeeded({ promptTokens: tokens, completionTokens: 0, totalTokens: tokens, isEstimated: !response.usage });
      return { embeddings, model: response.model || upstreamModel, tokens };
    } catch (error) {
      throw this.failed(call, error);
    }
  }

  // OpenAI's moderation endpoint: `flagged`, and the names of the categories that are true.
  async moderate(input: string, model: string, timeoutMs: number): Promise<ModerationResult> {
    const startedAt = performance.now();
    try {
      const response = await this.sdk().moderations.create({ model, input }, { timeout: timeoutMs });
      const result = response.results[0];
      const categories = Object.entries(result?.categories ?? {})
        .filter(([, isFlagged]) => isFlagged === true)
        .map(([name]) => name);
      return { flagged: result?.flagged ?? false, categories };
    } catch (error) {
      throw mapStainlessError(error, SDK_ERRORS, { elapsedMs: performance.now() - startedAt, timeoutMs }, this.secrets);
    }
  }

  private failed(call: LlmCall, error: unknown, partialChars = 0) {
    return call.failed(mapStainlessError(error, SDK_ERRORS, { elapsedMs: call.elapsedMs, timeoutMs: this.timeoutMs }, this.secrets), partialChars);
  }
}

function toUsage(usage: { prompt_tokens: number; completion_tokens?: number; total_tokens: number }): TokenUsage {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens ?? 0, totalTokens: usage.total_tokens, isEstimated: false };
}
