import type { Message, MessageStatus } from '../../generated/prisma/client';
import type { CompletionOptions, LlmMessage, TokenUsage } from '../llm/llm.types';

// A turn between "user message stored" and "assistant message stored".
export interface ChatTurn {
  userId: string;
  conversationId: string;
  isNewConversation: boolean;
  userMessage: Message;
  llmMessages: LlmMessage[];
  options: CompletionOptions;
  idempotencyKey?: string;
}

export interface TurnOutcome {
  content: string;
  model: string;
  usage: TokenUsage;
  status: MessageStatus;
}
