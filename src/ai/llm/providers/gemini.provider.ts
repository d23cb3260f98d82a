import { ApiError, GoogleGenAI, type GenerateContentParameters, type GenerateContentResponse } from '@google/genai';
import { Injectable } from '@nestjs/common';
import { AppError } from '../../../common/errors/app-error';
import { AppConfigService } from '../../../config/app-config.service';
import { estimateUsage, LlmCall, LlmCallRecorder, StallGuard } from '../llm-call';
import { toLlmError, UpstreamFailure } from '../llm-error';
import type { CallContext, CompletionEvent, TokenUsage } from '../llm.types';
import { toAlternatingTurns } from './alternating-turns';
import type { ChatRequest } from './chat-provider';
import { SdkChatProvider } from './sdk-chat-provider';

// Google's Gemini API: the only code that talks to `@google/genai` (2.x; 3.x needs Node 22).
@Injectable()
export class GeminiProvider extends SdkChatProvider<GoogleGenAI> {
  readonly kind = 'gemini' as const;

  constructor(
    config: AppConfigService,
    private readonly recorder: LlmCallRecorder,
  ) {
    const apiKey = config.get('GEMINI_API_KEY');
    const timeout = config.get('OPENAI_TIMEOUT_MS');
    const client =
      apiKey || config.get('GEMINI_BASE_URL')
        ? new GoogleGenAI({
            apiKey: apiKey ?? 'not-needed',
            httpOptions: {
              baseUrl: config.get('GEMINI_BASE_URL'),
              timeout,
              retryOptions: { attempts: config.get('OPENAI_MAX_RETRIES') + 1 },
              // The platform's fetch as it is: the SDK's default wires its own undici dispatcher,
              // which a sandboxed global (Jest's) does not have.
              fetch,
            },
          })
        : null;
    super(client, timeout, apiKey ? [apiKey] : []);
  }

  private params(request: ChatRequest, abortSignal: AbortSignal): GenerateContentParameters {
    const { system, turns } = toAlternatingTurns(request.messages);
    return {
      model: request.upstreamModel,
      contents: turns.map((turn) => ({ role: turn.role === 'assistant' ? 'model' : 'user', parts: [{ text: turn.content }] })),
      config: { maxOutputTokens: request.maxTokens, temperature: request.temperature, abortSignal, ...(system ? { systemInstruction: system } : {}) },
    };
  }

  protected async *whole(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const call = this.recorder.start('completion', context, request.upstreamModel);
    let response: GenerateContentResponse;
    try {
      response = await this.sdk().models.generateContent(this.params(request, signal));
    } catch (error) {
      // Cancelled by the caller (its turn was refused meanwhile): not an upstream failure to count.
      if (signal.aborted) throw error;
      throw this.failed(call, error);
    }
    const content = response.text ?? '';
    const usage = toUsage(response) ?? estimateUsage(request.messages, content);
    call.succeeded(usage);
    if (content) yield { type: 'delta', content };
    yield { type: 'end', model: response.modelVersion || request.upstreamModel, finishReason: response.candidates?.[0]?.finishReason ?? null, usage, isAborted: false };
  }

  protected async *stream(request: ChatRequest, context: CallContext, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const call = this.recorder.start('stream', context, request.upstreamModel);
    let text = '';
    let model = request.upstreamModel;
    let finishReason: string | null = null;
    let usage: TokenUsage | undefined;
    const stall = new StallGuard(this.timeoutMs);
    const requestSignal = AbortSignal.any([signal, stall.signal]);
    try {
      const chunks = await this.sdk().models.generateContentStream(this.params(request, requestSignal));
      stall.arm();
      for await (const chunk of chunks) {
        stall.arm();
        if (requestSignal.aborted) break;
        model = chunk.modelVersion || model;
        usage = toUsage(chunk) ?? usage;
        finishReason = chunk.candidates?.[0]?.finishReason ?? finishReason;
        const delta = chunk.text;
        if (delta) {
          call.firstToken();
          text += delta;
          yield { type: 'delta', content: delta };
        }
      }
      if (stall.hasStalled) throw new GeminiStall();
    } catch (error) {
      if (!signal.aborted) throw this.failed(call, stall.hasStalled ? new GeminiStall() : error, text.length);
    } finally {
      stall.clear();
    }
    const counted = usage && !signal.aborted ? usage : estimateUsage(request.messages, text);
    call.succeeded(counted, signal.aborted ? 'aborted' : 'ok');
    yield { type: 'end', model, finishReason, usage: counted, isAborted: signal.aborted };
  }

  private failed(call: LlmCall, error: unknown, partialChars = 0): AppError {
    return call.failed(error instanceof AppError ? error : toLlmError(failureOf(error, call.elapsedMs >= this.timeoutMs), this.secrets), partialChars);
  }
}

class GeminiStall extends Error {}

function failureOf(error: unknown, isPastTimeout: boolean): UpstreamFailure {
  if (error instanceof GeminiStall) return { kind: 'timeout' };
  if (error instanceof ApiError) return { kind: 'status', status: error.status, message: apiMessage(error.message) };
  if (isPastTimeout) return { kind: 'timeout' };
  // fetch failed (refused, reset), undici's "terminated" (dropped mid-stream); possibly from another realm.
  const message = (error as { message?: unknown } | null)?.message;
  return { kind: 'connection', reason: typeof message === 'string' ? message : 'unknown' };
}

// The SDK puts the JSON error body in the message: `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}`.
function apiMessage(message: string): string {
  try {
    const body = JSON.parse(message) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // Not JSON: the SDK's own text is the message.
  }
  return message;
}

function toUsage(response: GenerateContentResponse): TokenUsage | undefined {
  const meta = response.usageMetadata;
  if (meta?.promptTokenCount === undefined) return undefined;
  const completion = meta.candidatesTokenCount ?? 0;
  return {
    promptTokens: meta.promptTokenCount,
    completionTokens: completion,
    totalTokens: meta.totalTokenCount ?? meta.promptTokenCount + completion,
    isEstimated: false,
  };
}
