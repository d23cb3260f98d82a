import type { Conversation } from '../../generated/prisma/client';
import type { MessageWithSiblings } from './message-tree';
import { CitationDto, ConversationDetailResponseDto, ConversationResponseDto, MessageResponseDto } from './dto/conversation.dto';

export const mapConversation = (c: Conversation): ConversationResponseDto => ({
  id: c.id,
  title: c.title,
  systemPrompt: c.systemPrompt,
  userId: c.userId,
  messageCount: c.messageCount,
  totalTokens: c.totalTokens,
  totalCostUsd: c.totalCostUsd,
  pinned: c.pinned,
  archived: c.archived,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export const mapMessage = ({ message: m, siblingIds }: MessageWithSiblings): MessageResponseDto => ({
  id: m.id,
  parentId: m.parentId,
  siblingIds,
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

export const mapConversationDetail = (c: Conversation, messages: MessageWithSiblings[]): ConversationDetailResponseDto => ({
  ...mapConversation(c),
  messages: messages.map(mapMessage),
});
