import { Body, Controller, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RequestId } from '../../common/decorators/request-id.decorator';
import { RateLimit, RateLimitAdmission } from '../../rate-limit/rate-limit.decorator';
import { ChatService } from '../chat/chat.service';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { ChatResponseDto } from '../chat/dto/chat-response.dto';
import { ApiAuthenticatedTag, ApiModelCallResponses } from './api-docs.decorators';

@ApiAuthenticatedTag('ai')
@Controller('ai')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post('chat')
  @RateLimit('ai', { inHandler: true })
  @ApiOperation({ summary: 'Send a message and get the whole answer (non-streaming)' })
  @ApiResponse({ status: 201, type: ChatResponseDto })
  @ApiModelCallResponses()
  @ApiResponse({ status: 404, description: 'Conversation not found' })
  sendMessage(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChatRequestDto,
    @RateLimitAdmission() admission: Promise<void>,
    @RequestId() requestId: string,
  ): Promise<ChatResponseDto> {
    return this.chat.sendMessage(user.id, dto, { transport: 'rest', requestId, admission });
  }
}
