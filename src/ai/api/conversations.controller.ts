import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RequestId } from '../../common/decorators/request-id.decorator';
import {
  ConversationBranchQueryDto,
  ConversationDetailResponseDto,
  ConversationPageResponseDto,
  ConversationResponseDto,
  CreateConversationDto,
  ExportConversationQueryDto,
  ListConversationsQueryDto,
  UpdateConversationDto,
} from '../conversations/dto/conversation.dto';
import { ConversationService } from '../conversations/conversation.service';
import { RateLimit, RateLimitAdmission } from '../../rate-limit/rate-limit.decorator';
import { ChatService } from '../chat/chat.service';
import { ChatResponseDto } from '../chat/dto/chat-response.dto';
import { RegenerateRequestDto } from '../chat/dto/regenerate-request.dto';
import { ApiAuthenticatedTag, ApiModelCallResponses } from './api-docs.decorators';

@ApiAuthenticatedTag('conversations')
@Controller('ai/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationService,
    private readonly chat: ChatService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create an empty conversation, optionally with its own system prompt' })
  @ApiResponse({ status: 201, type: ConversationResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, or a system prompt flagged by content moderation (AI_MODERATION=block)' })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateConversationDto): Promise<ConversationResponseDto> {
    return this.conversations.createConversation(user.id, dto);
  }

  @Get()
  @ApiOperation({ summary: "The caller's conversations (archived ones with archived=true): pinned first, then newest first; with q, the best match first" })
  @ApiResponse({ status: 200, type: ConversationPageResponseDto })
  list(@CurrentUser() user: AuthUser, @Query() query: ListConversationsQueryDto): Promise<ConversationPageResponseDto> {
    return this.conversations.listConversations(user.id, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A conversation with one branch of its messages, first message first: the path to leafId, or to the newest message' })
  @ApiResponse({ status: 200, type: ConversationDetailResponseDto })
  @ApiResponse({ status: 404, description: 'Not found (or not yours), or leafId is not a message of it' })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Query() query: ConversationBranchQueryDto): Promise<ConversationDetailResponseDto> {
    return this.conversations.getConversation(id, user.id, query.leafId);
  }

  @Get(':id/tree')
  @ApiOperation({ summary: 'A conversation with every message of every branch, oldest first (each with parentId and siblingIds)' })
  @ApiResponse({ status: 200, type: ConversationDetailResponseDto })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  tree(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<ConversationDetailResponseDto> {
    return this.conversations.getTree(id, user.id);
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'Download a branch (leafId, or the newest) as JSON (the GET /conversations/:id body) or Markdown' })
  @ApiProduces('application/json', 'text/markdown')
  @ApiResponse({ status: 200, description: 'The file, as an attachment' })
  @ApiResponse({ status: 400, description: 'Unknown format' })
  @ApiResponse({ status: 404, description: 'Not found (or not yours), or leafId is not a message of it' })
  async export(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Query() query: ExportConversationQueryDto): Promise<StreamableFile> {
    const file = await this.conversations.exportConversation(id, user.id, query.format, query.leafId);
    return new StreamableFile(Buffer.from(file.body, 'utf8'), { type: file.contentType, disposition: `attachment; filename="${file.filename}"` });
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename, pin or archive a conversation, or set its system prompt (null clears the title or the prompt)' })
  @ApiResponse({ status: 200, type: ConversationResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, or a system prompt flagged by content moderation (AI_MODERATION=block)' })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  update(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateConversationDto): Promise<ConversationResponseDto> {
    return this.conversations.updateConversation(id, user.id, dto);
  }

  @Post(':id/messages/:messageId/regenerate')
  @RateLimit('ai', { inHandler: true })
  @ApiOperation({ summary: 'Answer the question of an assistant message again: a new answer beside it (its sibling), from the same history' })
  @ApiResponse({ status: 201, type: ChatResponseDto })
  @ApiModelCallResponses()
  @ApiResponse({ status: 404, description: 'Conversation or message not found (or not yours)' })
  regenerate(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
    @Body() dto: RegenerateRequestDto,
    @RateLimitAdmission() admission: Promise<void>,
    @RequestId() requestId: string,
  ): Promise<ChatResponseDto> {
    return this.chat.regenerate(user.id, { conversationId: id, messageId }, dto, { transport: 'rest', requestId, admission });
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
