import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfigService } from '../../../config/app-config.service';
import { estimateUsage, LlmCall, LlmCallRecorder, StallGuard } from '../llm-call';
import type { CallContext, CompletionEvent, TokenUsage } from '../llm.types';
import { toAlternatingTurns } from './alternating-turns';
import type { ChatRequest } from './chat-provider';
import { SdkChatProvider, upstreamFetch } from './sdk-chat-provider';
import { mapStainlessError } from './stainless-error';

const SDK_ERRORS = { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError };

// Anthropic's Messages API: the only code that talks to `@anthropic-ai/sdk`.
@Injectable()
export class AnthropicProvider extends SdkChatProvider<Anthropic> {
  readonly kind = 'anthropic' as const;

  constructor(
    config: AppConfigService,
    private readonly recorder: LlmCallRecorder,
  ) {
    const apiKey = config.get('ANTHROPIC_API_KEY');
    const timeout = config.get('OPENAI_TIMEOUT_MS');
    const client =
      apiKey || config.get('ANTHROPIC_BASE_URL')
        ? new Anthropic({
            apiKey: apiKey ?? 'not-needed',
            baseURL: config.get('ANTHROPIC_BASE_URL'),
            timeout,
            maxRetries: config.get('OPENAI_MAX_RETRIES'),
            fetch: upstreamFetch,
          })
        : null;
    super(client, timeout, apiKey ? [apiKey] : []);
  }

  private params(request: ChatRequest) {
    const { system, turns } = toAlternatingTurns(request.messages);
    return { model: request.upstreamModel, max_tokens: request.maxTokens, temperature: request.temperature, messages: turns, ...(system ? { system } : {}) };
  }

  protected async *whole(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const call = this.recorder.start('completion', context, request.upstreamModel);
    let message;
    try {
      message = await this.sdk().messages.create(this.params(request), { signal });
    } catch (error) {
      // Cancelled by the caller (its turn was refused meanwhile): not an upstream failure to count.
      if (signal.aborted) throw error;
      throw this.failed(call, error);
    }
    const content = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    const usage = toUsage(message.usage.input_tokens, message.usage.output_tokens);
    call.succeeded(usage);
    if (content) yield { type: 'delta', content };
    yield { type: 'end', model: message.model || request.upstreamModel, finishReason: message.stop_reason ?? null, usage, isAborted: false };
  }

  protected async *stream(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const call = this.recorder.start('stream', context, request.upstreamModel);
    let text = '';
    let model = request.upstreamModel;
    let finishReason: string | null = null;
    let inputTokens: number | undefined;
    let outputTokens: number | undefined;
    const stall = new StallGuard(this.timeoutMs);
    const requestSignal = AbortSignal.any([signal, stall.signal]);
    try {
      const events = await this.sdk().messages.create({ ...this.params(request), stream: true }, { signal: requestSignal });
      stall.arm();
      for await (const event of events) {
        stall.arm();
        if (event.type === 'message_start') {
          model = event.message.model || model;
          inputTokens = event.message.usage?.input_tokens;
        } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta' && event.delta.text) {
          call.firstToken();
          text += event.delta.text;
          yield { type: 'delta', content: event.delta.text };
        } else if (event.type === 'message_delta') {
          finishReason = event.delta.stop_reason ?? finishReason;
          outputTokens = event.usage?.output_tokens ?? outputTokens;
        }
      }
      if (stall.hasStalled) throw new APIConnectionTimeoutError();
    } catch (error) {
      if (!signal.aborted) throw this.failed(call, stall.hasStalled ? new APIConnectionTimeoutError() : error, text.length);
    } finally {
      stall.clear();
    }
    const hasUsage = inputTokens !== undefined && outputTokens !== undefined && !signal.aborted;
    const usage = hasUsage ? toUsage(inputTokens!, outputTokens!) : estimateUsage(request.messages, text);
    call.succeeded(usage, signal.aborted ? 'aborted' : 'ok');
    yield { type: 'end', model, finishReason, usage, isAborted: signal.aborted };
  }

  private failed(call: LlmCall, error: unknown, partialChars = 0) {
    return call.failed(mapStainlessError(error, SDK_ERRORS, { elapsedMs: call.elapsedMs, timeoutMs: this.timeoutMs }, this.secrets), partialChars);
  }
}

const toUsage = (input: number, output: number): TokenUsage => ({ promptTokens: input, completionTokens: output, totalTokens: input + output, isEstimated: false });
