import type { Message, MessageStatus } from '../../generated/prisma/client';
import type { CallContext, CompletionOptions, LlmMessage, TokenUsage } from '../llm/llm.types';

// A turn after its pre-flight (what the model will be asked), before anything is held or stored.
export interface PreparedTurn {
  userId: string;
  // Null: the turn starts a new conversation.
  conversationId: string | null;
  message: string;
  llmMessages: LlmMessage[];
  options: CompletionOptions;
  // The worst case held against the user's budget until the turn is completed or abandoned.
  heldTokens: number;
  context: CallContext;
  idempotencyKey?: string;
  // A job retry's user message, stored by an earlier attempt.
  reusedUserMessage: Message | null;
}

// A turn between "user message stored" and "assistant message stored".
export interface ChatTurn extends Omit<PreparedTurn, 'conversationId' | 'reusedUserMessage'> {
  conversationId: string;
  isNewConversation: boolean;
  userMessage: Message;
}

// How a turn was asked for: the transport (for logs and metrics) and, for jobs, a key that
// makes a retry reuse what an earlier attempt stored.
export interface TurnRequest {
  transport: CallContext['transport'];
  requestId?: string;
  idempotencyKey?: string;
  // A check that must pass before anything is held or stored (the socket's rate limit), awaited
  // together with the pre-flight read instead of before it.
  admission?: Promise<void>;
}

export interface TurnOutcome {
  content: string;
  model: string;
  usage: TokenUsage;
  status: MessageStatus;
}
