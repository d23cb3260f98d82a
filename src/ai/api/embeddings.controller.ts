import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RequestId } from '../../common/decorators/request-id.decorator';
import { RateLimit } from '../../rate-limit/rate-limit.decorator';
import { EmbeddingRequestDto, EmbeddingResponseDto } from '../embeddings/dto/embedding.dto';
import { EmbeddingService } from '../embeddings/embedding.service';
import { ApiAuthenticatedTag, ApiModelCallResponses } from './api-docs.decorators';

@ApiAuthenticatedTag('ai')
@Controller('ai')
export class EmbeddingsController {
  constructor(private readonly embeddings: EmbeddingService) {}

  @Post('embeddings')
  @RateLimit('ai')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Embed a text; its tokens count toward usage' })
  @ApiResponse({ status: 200, type: EmbeddingResponseDto })
  @ApiModelCallResponses()
  createEmbedding(@CurrentUser() user: AuthUser, @Body() dto: EmbeddingRequestDto, @RequestId() requestId: string): Promise<EmbeddingResponseDto> {
    return this.embeddings.createEmbedding(user.id, dto, { transport: 'rest', requestId });
  }
}
