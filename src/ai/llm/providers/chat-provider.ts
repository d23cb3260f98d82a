import type { ProviderKind } from '../../models/model.types';
import type { BatchEmbeddingResult, CallContext, CompletionEvent, EmbeddingResult, LlmMessage } from '../llm.types';

export interface ChatRequest {
  messages: LlmMessage[];
  // The provider's own name for the model.
  upstreamModel: string;
  maxTokens: number;
  temperature: number;
}

export interface ProviderCall {
  // Stream the answer as it is written, or take it in one piece.
  isStreamed: boolean;
  // Aborts the upstream request. A stream then ends with `isAborted` (its text kept); a whole
  // answer aborted before it arrived rejects with the abort.
  signal: AbortSignal;
  context: CallContext;
}

// The port every provider adapter implements (the only code that imports its SDK): one chat
// completion as events — text deltas, then exactly one `end` with the provider's own usage (counted
// offline only when it sent none) — aborts that reach the upstream, and failures as AppErrors of
// the one error table (toLlmError), each call logged and counted through LlmCallRecorder.
export interface ChatProvider {
  readonly kind: ProviderKind;
  readonly isConfigured: boolean;
  complete(request: ChatRequest, call: ProviderCall): AsyncGenerator<CompletionEvent>;
  embed?(text: string, upstreamModel: string, context: CallContext): Promise<EmbeddingResult>;
  // `dimensions` asks the model for shorter vectors (OpenAI's text-embedding-3 models).
  embedBatch?(texts: string[], upstreamModel: string, options: { dimensions?: number }, context: CallContext): Promise<BatchEmbeddingResult>;
}
