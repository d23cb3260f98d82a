import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../../common/errors/app-error';
import { ModerationService } from '../moderation/moderation.service';
import {
  ConversationDetailResponseDto,
  ConversationPageResponseDto,
  ConversationResponseDto,
  CreateConversationDto,
  ExportFormat,
  ListConversationsQueryDto,
  UpdateConversationDto,
} from './dto/conversation.dto';
import { mapConversation, mapConversationDetail } from './conversation.mapper';
import { branchOf, withSiblings } from './message-tree';
import { ConversationFields, ConversationRepository } from './conversation.repository';
import { conversationMarkdown } from './conversation-markdown';

// A conversation as a file to download.
export interface ConversationExport {
  filename: string;
  contentType: string;
  body: string;
}

@Injectable()
export class ConversationService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly moderation: ModerationService,
  ) {}

  async createConversation(userId: string, { title, systemPrompt }: CreateConversationDto): Promise<ConversationResponseDto> {
    if (systemPrompt) await this.moderateSystemPrompt(userId, systemPrompt);
    return mapConversation(await this.conversations.create(userId, { title: title?.trim() || null, systemPrompt: systemPrompt ?? null }));
  }

  // Only the fields present change; null clears one.
  async updateConversation(id: string, userId: string, { title, systemPrompt, pinned, archived }: UpdateConversationDto): Promise<ConversationResponseDto> {
    const fields: Partial<ConversationFields> = {};
    if (title !== undefined) fields.title = title?.trim() || null;
    if (systemPrompt !== undefined) fields.systemPrompt = systemPrompt;
    if (pinned !== undefined) fields.pinned = pinned;
    if (archived !== undefined) fields.archived = archived;
    if (systemPrompt) await this.moderateSystemPrompt(userId, systemPrompt);
    const conversation = await this.conversations.updateForUser(id, userId, fields);
    if (!conversation) throw new NotFoundError('Conversation');
    return mapConversation(conversation);
  }

  // Without `q`: pinned first, then the most recently updated. With `q`: the best match first.
  async listConversations(userId: string, { page, limit, archived, q }: ListConversationsQueryDto): Promise<ConversationPageResponseDto> {
    const skip = (page - 1) * limit;
    const query = q?.trim();
    const { conversations, total } = query
      ? await this.conversations.searchPageForUser(userId, query, archived, skip, limit)
      : await this.conversations.findPageForUser(userId, archived, skip, limit);
    return { data: conversations.map(mapConversation), meta: { total, page, limit, totalPages: Math.ceil(total / limit) } };
  }

  // The branch that ends at `leafId`, or at the newest message. A leaf that is not a message of
  // this conversation is 404, like any object the caller cannot see.
  async getConversation(id: string, userId: string, leafId?: string): Promise<ConversationDetailResponseDto> {
    const [conversation, tree] = await Promise.all([this.conversations.findForUser(id, userId), this.conversations.findTreeShapeForUser(id, userId)]);
    if (!conversation || !tree) throw new NotFoundError('Conversation');
    const branch = branchOf(tree, leafId ?? null);
    if (!branch) throw new NotFoundError('Message');
    if (branch.length === 0) return mapConversationDetail(conversation, []);
    const messages = new Map((await this.conversations.findMessagesByIds(branch.map((node) => node.id))).map((message) => [message.id, message]));
    // A message deleted between the two reads can only go with its conversation: then it is gone.
    if (messages.size !== branch.length) throw new NotFoundError('Conversation');
    return mapConversationDetail(
      conversation,
      branch.map(({ id: messageId, siblingIds }) => ({ message: messages.get(messageId)!, siblingIds })),
    );
  }

  // Every message of every branch, oldest first.
  async getTree(id: string, userId: string): Promise<ConversationDetailResponseDto> {
    const [conversation, messages] = await Promise.all([this.conversations.findForUser(id, userId), this.conversations.findMessagesForUser(id, userId)]);
    if (!conversation || !messages) throw new NotFoundError('Conversation');
    return mapConversationDetail(conversation, withSiblings(messages));
  }

  // A branch as a download: the GET /conversations/:id body as JSON, or Markdown to read.
  async exportConversation(id: string, userId: string, format: ExportFormat, leafId?: string): Promise<ConversationExport> {
    const detail = await this.getConversation(id, userId, leafId);
    if (format === 'md') return { filename: `conversation-${id}.md`, contentType: 'text/markdown; charset=utf-8', body: conversationMarkdown(detail) };
    return { filename: `conversation-${id}.json`, contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(detail, null, 2)}\n` };
  }

  async deleteConversation(id: string, userId: string): Promise<void> {
    if (!(await this.conversations.deleteForUser(id, userId))) throw new NotFoundError('Conversation');
  }

  // A system prompt is input bound for the model on every turn: in `block` mode a flagged one is refused.
  private async moderateSystemPrompt(userId: string, systemPrompt: string): Promise<void> {
    await this.moderation.checkInput(systemPrompt, { transport: 'rest', userId });
  }

  // Throws 404 unless the conversation exists and belongs to the user (and `messageId`, when given, is one of its messages).
  async assertOwnedBy(id: string, userId: string, messageId?: string): Promise<void> {
    if (!(await this.conversations.existsForUser(id, userId))) throw new NotFoundError('Conversation');
    if (messageId !== undefined && !(await this.conversations.hasMessage(id, messageId))) throw new NotFoundError('Message');
  }

  // The user's conversations and their messages, as they stand (deleted ones are gone).
  countsForUser(userId: string): Promise<{ conversations: number; messages: number }> {
    return this.conversations.countsForUser(userId);
  }
}
