import type { AiTransport } from '../../metrics/metrics.service';

// Who a call is for, for logs and metrics (never sent upstream).
export interface CallContext {
  transport: AiTransport;
  userId: string;
  requestId?: string;
}

export type LlmRole = 'system' | 'user' | 'assistant';

export interface LlmMessage {
  role: LlmRole;
  content: string;
}

export interface CompletionOptions {
  model: string;
  maxTokens: number;
  temperature: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  // True when the upstream sent no usage and the figure was counted offline.
  isEstimated: boolean;
}

export interface CompletionResult {
  content: string;
  model: string;
  finishReason: string | null;
  usage: TokenUsage;
}

export type StreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'end'; model: string; finishReason: string | null; usage: TokenUsage; isAborted: boolean };

export interface EmbeddingResult {
  embedding: number[];
  model: string;
  tokens: number;
}
