import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import { RateLimit, RateLimitAdmission } from '../../rate-limit/rate-limit.decorator';
import { ConversationService } from '../conversations/conversation.service';
import { ChatRequestDto } from '../dto/chat-request.dto';
import { ChatResponseDto } from '../dto/chat-response.dto';
import { UsageResponseDto } from '../dto/conversation.dto';
import { EmbeddingRequestDto, EmbeddingResponseDto } from '../dto/embedding.dto';
import { ChatService } from './chat.service';
import { EmbeddingService } from './embedding.service';

@ApiTags('ai')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing, malformed or expired access token' })
@Controller('ai')
export class AiController {
  constructor(
    private readonly chat: ChatService,
    private readonly embeddings: EmbeddingService,
    private readonly conversations: ConversationService,
  ) {}

  @Post('chat')
  @RateLimit('ai', { inHandler: true })
  @ApiOperation({ summary: 'Send a message and get the whole answer (non-streaming)' })
  @ApiResponse({ status: 201, type: ChatResponseDto })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 404, description: 'Conversation not found' })
  @ApiResponse({ status: 429, description: 'Rate limit; see Retry-After' })
  @ApiResponse({ status: 502, description: 'AI provider unavailable' })
  @ApiResponse({ status: 503, description: 'OpenAI client not initialized' })
  @ApiResponse({ status: 504, description: 'AI provider timed out' })
  sendMessage(@CurrentUser() user: AuthUser, @Body() dto: ChatRequestDto, @RateLimitAdmission() admission: Promise<void>): Promise<ChatResponseDto> {
    return this.chat.sendMessage(user.id, dto, { transport: 'rest', admission });
  }

  @Post('embeddings')
  @RateLimit('ai')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Embed a text; its tokens count toward usage' })
  @ApiResponse({ status: 200, type: EmbeddingResponseDto })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 429, description: 'Rate limit; see Retry-After' })
  createEmbedding(@CurrentUser() user: AuthUser, @Body() dto: EmbeddingRequestDto): Promise<EmbeddingResponseDto> {
    return this.embeddings.createEmbedding(user.id, dto);
  }

  @Get('usage')
  @ApiOperation({ summary: "The caller's token usage and counts" })
  @ApiResponse({ status: 200, type: UsageResponseDto })
  getUsage(@CurrentUser() user: AuthUser): Promise<UsageResponseDto> {
    return this.conversations.getUserUsageStats(user.id);
  }
}
