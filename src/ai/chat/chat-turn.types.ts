import type { Message, MessageStatus } from '../../generated/prisma/client';
import type { CallContext, CompletionOptions, LlmMessage, TokenUsage } from '../llm/llm.types';

// A turn between "user message stored" and "assistant message stored".
export interface ChatTurn {
  userId: string;
  conversationId: string;
  isNewConversation: boolean;
  userMessage: Message;
  llmMessages: LlmMessage[];
  options: CompletionOptions;
  // The worst case held against the user's budget until the turn is completed or abandoned.
  heldTokens: number;
  context: CallContext;
  idempotencyKey?: string;
}

// How a turn was asked for: the transport (for logs and metrics) and, for jobs, a key that
// makes a retry reuse what an earlier attempt stored.
export interface TurnRequest {
  transport: CallContext['transport'];
  requestId?: string;
  idempotencyKey?: string;
  // A check that must pass before anything is held or stored (the socket's rate limit), awaited
  // together with the pre-flight reads instead of before them.
  admission?: Promise<void>;
}

export interface TurnOutcome {
  content: string;
  model: string;
  usage: TokenUsage;
  status: MessageStatus;
}
