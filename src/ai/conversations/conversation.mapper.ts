import type { Conversation, Message } from '../../generated/prisma/client';
import { CitationDto, ConversationDetailResponseDto, ConversationResponseDto, MessageResponseDto } from './dto/conversation.dto';

export const mapConversation = (c: Conversation): ConversationResponseDto => ({
  id: c.id,
  title: c.title,
  systemPrompt: c.systemPrompt,
  userId: c.userId,
  messageCount: c.messageCount,
  totalTokens: c.totalTokens,
  totalCostUsd: c.totalCostUsd,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

const mapMessage = (m: Message): MessageResponseDto => ({
  id: m.id,
  role: m.role,
  content: m.content,
  promptTokens: m.promptTokens,
  completionTokens: m.completionTokens,
  tokens: m.tokens,
  costUsd: m.costUsd,
  model: m.model,
  status: m.status,
  flagged: m.flagged,
  categories: m.categories,
  citations: m.citations as unknown as CitationDto[] | null,
  createdAt: m.createdAt,
});

export const mapConversationDetail = (c: Conversation & { messages: Message[] }): ConversationDetailResponseDto => ({
  ...mapConversation(c),
  messages: c.messages.map(mapMessage),
});
