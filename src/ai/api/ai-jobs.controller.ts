import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RateLimit } from '../../rate-limit/rate-limit.decorator';
import { JobQueuedResponseDto, JobStatusResponseDto } from '../jobs/dto/ai-job.dto';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { EmbeddingRequestDto } from '../embeddings/dto/embedding.dto';
import { AiJobsService } from '../jobs/ai-jobs.service';
import { ApiAuthenticatedTag } from './api-docs.decorators';

@ApiAuthenticatedTag('ai-jobs')
@Controller('ai/jobs')
export class AiJobsController {
  constructor(private readonly jobs: AiJobsService) {}

  @Post('completion')
  @RateLimit('ai')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Queue a chat turn (the POST /ai/chat body); poll its status for the answer' })
  @ApiResponse({ status: 202, type: JobQueuedResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body' })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 404, description: 'Conversation not found' })
  @ApiResponse({ status: 429, description: 'Rate limit; see Retry-After' })
  queueCompletion(@CurrentUser() user: AuthUser, @Body() dto: ChatRequestDto): Promise<JobQueuedResponseDto> {
    return this.jobs.queueCompletion(user.id, dto);
  }

  @Post('embeddings')
  @RateLimit('ai')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Queue an embedding (the POST /ai/embeddings body); poll its status for the vector' })
  @ApiResponse({ status: 202, type: JobQueuedResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body' })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 429, description: 'Rate limit; see Retry-After' })
  queueEmbeddings(@CurrentUser() user: AuthUser, @Body() dto: EmbeddingRequestDto): Promise<JobQueuedResponseDto> {
    return this.jobs.queueEmbeddings(user.id, dto);
  }

  @Get(':jobId')
  @ApiOperation({ summary: "State, progress and result of one of the caller's jobs" })
  @ApiResponse({ status: 200, type: JobStatusResponseDto })
  @ApiResponse({ status: 404, description: "Job not found (unknown, expired, or another user's)" })
  getJobStatus(@CurrentUser() user: AuthUser, @Param('jobId') jobId: string): Promise<JobStatusResponseDto> {
    return this.jobs.getJobStatus(jobId, user.id);
  }
}
