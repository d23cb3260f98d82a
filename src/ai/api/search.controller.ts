import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RequestId } from '../../common/decorators/request-id.decorator';
import { RateLimit } from '../../rate-limit/rate-limit.decorator';
import { SearchRequestDto, SearchResponseDto } from '../knowledge/dto/search.dto';
import { KnowledgeAvailableGuard } from '../knowledge/knowledge-available.guard';
import { KnowledgeService } from '../knowledge/knowledge.service';
import { ApiAuthenticatedTag, ApiModelCallResponses } from './api-docs.decorators';

@ApiAuthenticatedTag('knowledge')
@UseGuards(KnowledgeAvailableGuard)
@Controller('ai')
export class SearchController {
  constructor(private readonly knowledge: KnowledgeService) {}

  @Post('search')
  @RateLimit('ai')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Semantic search over the caller's ready documents, best first; the query's tokens count toward usage" })
  @ApiResponse({ status: 200, type: SearchResponseDto })
  @ApiResponse({ status: 404, description: 'A documentIds entry is not one of your ready documents' })
  @ApiModelCallResponses()
  @ApiResponse({ status: 503, description: 'Vector search needs the pgvector extension, or OpenAI client not initialized' })
  search(@CurrentUser() user: AuthUser, @Body() dto: SearchRequestDto, @RequestId() requestId: string): Promise<SearchResponseDto> {
    return this.knowledge.search(user.id, dto, { transport: 'rest', userId: user.id, requestId });
  }
}
