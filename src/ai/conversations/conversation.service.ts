import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../../common/errors/app-error';
import { ConversationDetailResponseDto, ConversationPageResponseDto, ConversationResponseDto } from './dto/conversation.dto';
import { mapConversation, mapConversationDetail } from './conversation.mapper';
import { ConversationRepository } from './conversation.repository';

@Injectable()
export class ConversationService {
  constructor(private readonly conversations: ConversationRepository) {}

  async createConversation(userId: string, title?: string): Promise<ConversationResponseDto> {
    return mapConversation(await this.conversations.create(userId, title?.trim() || null));
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

  // Throws 404 unless the conversation exists and belongs to the user.
  async assertOwnedBy(id: string, userId: string): Promise<void> {
    if (!(await this.conversations.existsForUser(id, userId))) throw new NotFoundError('Conversation');
  }

  // The user's conversations and their messages, as they stand (deleted ones are gone).
  countsForUser(userId: string): Promise<{ conversations: number; messages: number }> {
    return this.conversations.countsForUser(userId);
  }
}
