import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import {
  ConversationDetailResponseDto,
  ConversationPageResponseDto,
  ConversationResponseDto,
  CreateConversationDto,
  ListConversationsQueryDto,
  UpdateConversationDto,
} from '../conversations/dto/conversation.dto';
import { ConversationService } from '../conversations/conversation.service';
import { ApiAuthenticatedTag } from './api-docs.decorators';

@ApiAuthenticatedTag('conversations')
@Controller('ai/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationService) {}

  @Post()
  @ApiOperation({ summary: 'Create an empty conversation, optionally with its own system prompt' })
  @ApiResponse({ status: 201, type: ConversationResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, or a system prompt flagged by content moderation (AI_MODERATION=block)' })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateConversationDto): Promise<ConversationResponseDto> {
    return this.conversations.createConversation(user.id, dto);
  }

  @Get()
  @ApiOperation({ summary: "The caller's conversations, newest first" })
  @ApiResponse({ status: 200, type: ConversationPageResponseDto })
  list(@CurrentUser() user: AuthUser, @Query() query: ListConversationsQueryDto): Promise<ConversationPageResponseDto> {
    return this.conversations.listConversations(user.id, query.page, query.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A conversation with its messages, oldest first' })
  @ApiResponse({ status: 200, type: ConversationDetailResponseDto })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<ConversationDetailResponseDto> {
    return this.conversations.getConversation(id, user.id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a conversation or set its system prompt (null clears either)' })
  @ApiResponse({ status: 200, type: ConversationResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, or a system prompt flagged by content moderation (AI_MODERATION=block)' })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  update(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateConversationDto): Promise<ConversationResponseDto> {
    return this.conversations.updateConversation(id, user.id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a conversation and its messages (usage is not refunded)' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  remove(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.conversations.deleteConversation(id, user.id);
  }
}
