// How a call reached the service; a label on its logs and metrics.
export type AiTransport = 'rest' | 'ws' | 'sse' | 'job';

// Who a call is for, for logs and metrics (never sent upstream).
export interface CallContext {
  transport: AiTransport;
  userId: string;
  requestId?: string;
  // The registry id of the model, for labels (the upstream may name its model differently).
  modelId?: string;
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

// A completion as it arrives: text deltas, then exactly one `end`.
export type CompletionEvent = { type: 'delta'; content: string } | CompletionEnd;

export interface CompletionEnd {
  type: 'end';
  model: string;
  finishReason: string | null;
  usage: TokenUsage;
  // Stopped through the caller's signal: the text so far is all there is.
  isAborted: boolean;
}

export interface EmbeddingResult {
  embedding: number[];
  model: string;
  tokens: number;
}

// Several texts embedded in one request, their vectors in the order of the texts.
export interface BatchEmbeddingResult {
  embeddings: number[][];
  model: string;
  tokens: number;
}

// A moderation model's verdict on one text: flagged or not, and the categories it was flagged for.
export interface ModerationResult {
  flagged: boolean;
  categories: string[];
}
