import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { MetricsService } from '../../metrics/metrics.service';
import type { CallContext, LlmMessage, TokenUsage } from './llm.types';
import { estimatePromptTokens, estimateTextTokens } from './token-estimator';

export type CallKind = 'completion' | 'stream' | 'embedding';

// The bookkeeping of one upstream call, whichever provider makes it: time to first token, then
// exactly one log line and its metrics when it ends. Labelled with the registry id.
export class LlmCall {
  private readonly startedAt = performance.now();
  private hasFirstToken = false;

  constructor(
    private readonly recorder: LlmCallRecorder,
    readonly kind: CallKind,
    readonly context: CallContext,
    readonly upstreamModel: string,
  ) {}

  get model(): string {
    return this.context.modelId ?? this.upstreamModel;
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  firstToken(): void {
    if (this.hasFirstToken) return;
    this.hasFirstToken = true;
    this.recorder.metrics.observeTimeToFirstToken(this.model, this.context.transport, this.elapsedMs / 1000);
  }

  succeeded(usage: TokenUsage, outcome: 'ok' | 'aborted' = 'ok'): void {
    const seconds = this.elapsedMs / 1000;
    const { metrics } = this.recorder;
    metrics.observeAiCall({ model: this.model, transport: this.context.transport, kind: this.kind, outcome, seconds });
    if (this.kind === 'embedding') {
      metrics.countTokens(this.model, 'embedding', usage.totalTokens);
    } else {
      metrics.countTokens(this.model, 'prompt', usage.promptTokens);
      metrics.countTokens(this.model, 'completion', usage.completionTokens);
    }
    this.recorder.logger.log({
      msg: 'ai call',
      ...this.context,
      kind: this.kind,
      model: this.model,
      upstreamModel: this.upstreamModel,
      outcome,
      latencyMs: Math.round(seconds * 1000),
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
      tokensEstimated: usage.isEstimated,
    });
  }

  // Counts and logs the mapped failure, and returns it for the caller to throw.
  failed(error: AppError, partialChars = 0): AppError {
    const { metrics } = this.recorder;
    metrics.countUpstreamError(error.code);
    metrics.observeAiCall({ model: this.model, transport: this.context.transport, kind: this.kind, outcome: 'error', seconds: this.elapsedMs / 1000 });
    this.recorder.logger.warn({
      msg: 'ai call failed',
      ...this.context,
      kind: this.kind,
      model: this.model,
      upstreamModel: this.upstreamModel,
      outcome: 'error',
      code: error.code,
      latencyMs: Math.round(this.elapsedMs),
      upstream: error.details,
      partialChars,
    });
    return error;
  }
}

@Injectable()
export class LlmCallRecorder {
  readonly logger = new Logger('LlmService');

  constructor(readonly metrics: MetricsService) {}

  start(kind: CallKind, context: CallContext, upstreamModel: string): LlmCall {
    this.logger.log(
      `Generating ${kind === 'embedding' ? 'embeddings' : kind === 'stream' ? 'streaming completion' : 'completion'} with model: ${context.modelId ?? upstreamModel}`,
    );
    return new LlmCall(this, kind, context, upstreamModel);
  }

  fallback(from: string, to: string, error: AppError, context: CallContext): void {
    this.metrics.countFallback(from, to);
    this.logger.warn({ msg: 'ai fallback', ...context, from, to, code: error.code, upstream: error.details });
  }
}

// The SDKs' timeouts end when the response headers arrive; an upstream that then stalls would hold
// a stream open indefinitely. `timeoutMs` without a chunk ends it (through `signal`).
export class StallGuard {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get hasStalled(): boolean {
    return this.controller.signal.aborted;
  }

  // Re-armed on every chunk: refresh() restarts the same timer instead of allocating a new one.
  arm(): void {
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(() => this.controller.abort(), this.timeoutMs);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

// Usage counted offline, for an upstream that reported none.
export function estimateUsage(messages: LlmMessage[], completion: string): TokenUsage {
  const promptTokens = estimatePromptTokens(messages);
  const completionTokens = estimateTextTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, isEstimated: true };
}
