import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { AppError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import { RateLimit, RateLimitAdmission } from '../../rate-limit/rate-limit.decorator';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { ChatStreamService } from '../stream/chat-stream.service';
import { RunningStreamResponseDto, StreamEventsQueryDto } from '../stream/dto/stream.dto';
import { SseResponse, SseStreamClient } from '../stream/sse-response';
import { ApiAuthenticatedTag, ApiModelCallResponses } from './api-docs.decorators';

const SSE_DESCRIPTION =
  'text/event-stream: events `conversation`, `user-message`, `message` (with `id: <seq>`), then one of `end`, `stopped`, `error`, each with JSON data like the socket events; `: ping` comments while idle';

const EVENT_STREAM = { 'text/event-stream': { schema: { type: 'string' } } };

@ApiAuthenticatedTag('streams')
@Controller('ai')
export class StreamsController {
  constructor(
    private readonly streams: ChatStreamService,
    private readonly config: AppConfigService,
  ) {}

  @Post('chat/stream')
  @RateLimit('ai', { inHandler: true })
  @ApiOperation({ summary: 'Send a message and stream the answer as Server-Sent Events (always resumable)' })
  @ApiResponse({ status: 200, description: SSE_DESCRIPTION, content: EVENT_STREAM })
  @ApiModelCallResponses()
  @ApiResponse({ status: 404, description: 'Conversation not found' })
  async streamChat(@CurrentUser() user: AuthUser, @Body() dto: ChatRequestDto, @RateLimitAdmission() admission: Promise<void>, @Res() res: FastifyReply): Promise<void> {
    const sse = this.sse(res);
    const client = new SseStreamClient(sse, (info, lastSeq, reader) => this.streams.follow(info.streamId, lastSeq, reader));
    // The stream goes on whether or not the client stays: it is resumable.
    void this.streams.startSse(client, user.id, dto, admission);
    // A refusal before the first event (400, 403, 404, 429...) is a JSON error like any route's.
    await client.started;
  }

  @Get('streams')
  @ApiOperation({ summary: "The caller's running streams, oldest first (a second tab can resume one)" })
  @ApiResponse({ status: 200, type: [RunningStreamResponseDto] })
  async list(@CurrentUser() user: AuthUser): Promise<RunningStreamResponseDto[]> {
    const streams = await this.streams.listRunning(user.id);
    return streams.map(({ streamId, conversationId, startedAt, resumable }) => ({ streamId, conversationId, startedAt, resumable }));
  }

  @Post('streams/:streamId/stop')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Stop a stream wherever it runs: the partial answer is stored and its readers get `stopped`' })
  @ApiResponse({ status: 202, description: 'Stop sent (nothing to do when the stream has already ended)' })
  @ApiResponse({ status: 404, description: 'Unknown, expired or not yours' })
  stop(@CurrentUser() user: AuthUser, @Param('streamId', ParseUUIDPipe) streamId: string): Promise<void> {
    return this.streams.stopStream(user.id, streamId);
  }

  @Get('streams/:streamId/events')
  @ApiOperation({ summary: 'Resume a stream as Server-Sent Events: the chunks after Last-Event-ID (or lastSeq), the live ones, then its end' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The last `seq` received' })
  @ApiResponse({ status: 200, description: SSE_DESCRIPTION.replace('`conversation`, `user-message`, ', ''), content: EVENT_STREAM })
  @ApiResponse({ status: 400, description: 'Invalid Last-Event-ID or lastSeq' })
  @ApiResponse({ status: 404, description: 'Unknown, expired, not resumable or not yours' })
  async events(
    @CurrentUser() user: AuthUser,
    @Param('streamId', ParseUUIDPipe) streamId: string,
    @Query() query: StreamEventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const lastSeq = lastEventId === undefined || lastEventId === '' ? (query.lastSeq ?? 0) : parseSeq(lastEventId);
    const info = await this.streams.findResumable(user.id, streamId);
    const sse = this.sse(res);
    sse.open();
    const stop = await this.streams.follow(streamId, lastSeq, sse.reader(info));
    sse.onClose(stop);
  }

  private sse(res: FastifyReply): SseResponse {
    return new SseResponse(res, this.config.get('AI_SSE_HEARTBEAT_MS'));
  }
}

function parseSeq(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new AppError('VALIDATION_FAILED', 'Last-Event-ID must be a non-negative integer');
  return Number(value);
}
