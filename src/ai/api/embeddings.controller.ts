import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RateLimit } from '../../rate-limit/rate-limit.decorator';
import { EmbeddingRequestDto, EmbeddingResponseDto } from '../embeddings/dto/embedding.dto';
import { EmbeddingService } from '../embeddings/embedding.service';

@ApiTags('ai')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'Missing, malformed or expired access token' })
@Controller('ai')
export class EmbeddingsController {
  constructor(private readonly embeddings: EmbeddingService) {}

  @Post('embeddings')
  @RateLimit('ai')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Embed a text; its tokens count toward usage' })
  @ApiResponse({ status: 200, type: EmbeddingResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, or the upstream rejected the request (its message)' })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 429, description: 'Rate limit (see Retry-After), or the upstream is rate limiting' })
  @ApiResponse({ status: 502, description: 'AI provider unavailable' })
  @ApiResponse({ status: 503, description: 'OpenAI client not initialized' })
  @ApiResponse({ status: 504, description: 'AI provider timed out' })
  createEmbedding(@CurrentUser() user: AuthUser, @Body() dto: EmbeddingRequestDto): Promise<EmbeddingResponseDto> {
    return this.embeddings.createEmbedding(user.id, dto, { transport: 'rest' });
  }
}
