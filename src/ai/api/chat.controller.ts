import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RateLimit, RateLimitAdmission } from '../../rate-limit/rate-limit.decorator';
import { ChatService } from '../chat/chat.service';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { ChatResponseDto } from '../chat/dto/chat-response.dto';

@ApiTags('ai')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing, malformed or expired access token' })
@Controller('ai')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post('chat')
  @RateLimit('ai', { inHandler: true })
  @ApiOperation({ summary: 'Send a message and get the whole answer (non-streaming)' })
  @ApiResponse({ status: 201, type: ChatResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, or the upstream rejected the request (its message)' })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 404, description: 'Conversation not found' })
  @ApiResponse({ status: 429, description: 'Rate limit (see Retry-After), or the upstream is rate limiting' })
  @ApiResponse({ status: 502, description: 'AI provider unavailable' })
  @ApiResponse({ status: 503, description: 'OpenAI client not initialized' })
  @ApiResponse({ status: 504, description: 'AI provider timed out' })
  sendMessage(@CurrentUser() user: AuthUser, @Body() dto: ChatRequestDto, @RateLimitAdmission() admission: Promise<void>): Promise<ChatResponseDto> {
    return this.chat.sendMessage(user.id, dto, { transport: 'rest', admission });
  }
}
