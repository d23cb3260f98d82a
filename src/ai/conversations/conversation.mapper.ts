import type { Conversation, Message } from '../../generated/prisma/client';
import type { MessageInBranch } from './conversation.repository';
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

export const mapMessage = (m: MessageInBranch): MessageResponseDto => ({
  id: m.id,
  parentId: m.parentId,
  siblingIds: m.siblingIds,
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

export const mapConversationDetail = (c: Conversation, messages: MessageInBranch[]): ConversationDetailResponseDto => ({
  ...mapConversation(c),
  messages: messages.map(mapMessage),
});

// A whole tree (messages oldest first): each message's siblings are its parent's children in the same order.
export function withSiblings(messages: Message[]): MessageInBranch[] {
  const children = new Map<string | null, string[]>();
  for (const message of messages) {
    const siblings = children.get(message.parentId) ?? [];
    siblings.push(message.id);
    children.set(message.parentId, siblings);
  }
  return messages.map((message) => ({ ...message, siblingIds: children.get(message.parentId)! }));
}
