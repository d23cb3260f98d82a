import type { Message } from '../../generated/prisma/client';
import type { Citation } from './chat-turn.types';
import { ChatResponseDto } from './dto/chat-response.dto';

// The stored assistant message as the POST /ai/chat response.
export const mapChatResponse = (message: Message): ChatResponseDto => ({
  conversationId: message.conversationId,
  messageId: message.id,
  content: message.content,
  model: message.model ?? '',
  tokens: message.tokens ?? 0,
  costUsd: message.costUsd,
  createdAt: message.createdAt,
  ...(message.citations ? { citations: message.citations as unknown as Citation[] } : {}),
});
