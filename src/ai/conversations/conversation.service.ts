import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../../common/errors/app-error';
import { ModerationService } from '../moderation/moderation.service';
import {
  ConversationDetailResponseDto,
  ConversationPageResponseDto,
  ConversationResponseDto,
  CreateConversationDto,
  UpdateConversationDto,
} from './dto/conversation.dto';
import { mapConversation, mapConversationDetail } from './conversation.mapper';
import { ConversationFields, ConversationRepository } from './conversation.repository';

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
  async updateConversation(id: string, userId: string, { title, systemPrompt }: UpdateConversationDto): Promise<ConversationResponseDto> {
    const fields: Partial<ConversationFields> = {};
    if (title !== undefined) fields.title = title?.trim() || null;
    if (systemPrompt !== undefined) fields.systemPrompt = systemPrompt;
    if (systemPrompt) await this.moderateSystemPrompt(userId, systemPrompt);
    const conversation = await this.conversations.updateForUser(id, userId, fields);
    if (!conversation) throw new NotFoundError('Conversation');
    return mapConversation(conversation);
  }

  async listConversations(userId: string, page: number, limit: number): Promise<ConversationPageResponseDto> {
    const { conversations, total } = await this.conversations.findPageForUser(userId, (page - 1) * limit, limit);
    return { data: conversations.map(mapConversation), meta: { total, page, limit, totalPages: Math.ceil(total / limit) } };
  }

  async getConversation(id: string, userId: string): Promise<ConversationDetailResponseDto> {
    const conversation = await this.conversations.findWithMessagesForUser(id, userId);
    if (!conversation) throw new NotFoundError('Conversation');
    return mapConversationDetail(conversation);
  }

  async deleteConversation(id: string, userId: string): Promise<void> {
    if (!(await this.conversations.deleteForUser(id, userId))) throw new NotFoundError('Conversation');
  }

  // A system prompt is input bound for the model on every turn: in `block` mode a flagged one is refused.
  private async moderateSystemPrompt(userId: string, systemPrompt: string): Promise<void> {
    await this.moderation.checkInput(systemPrompt, { transport: 'rest', userId });
  }

  // Throws 404 unless the conversation exists and belongs to the user.
  async assertOwnedBy(id: string, userId: string): Promise<void> {
    if (!(await this.conversations.existsForUser(id, userId))) throw new NotFoundError('Conversation');
  }

  // The user's conversations and their messages, as they stand (deleted ones are gone).
  countsForUser(userId: string): Promise<{ conversations: number; messages: number }> {
    return this.conversations.countsForUser(userId);
  }
}
