import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../common/errors/app-error';
import { toClientError } from '../../common/errors/client-error';
import { validateDto } from '../../common/validation/validate-dto';
import { AppConfigService } from '../../config/app-config.service';
import { ShutdownState } from '../../lifecycle/shutdown-state.service';
import { MetricsService } from '../../metrics/metrics.service';
import { RateLimitService } from '../../rate-limit/rate-limit.service';
import { ChatTurnRunner } from '../chat/chat-turn.runner';
import { TurnEvent, TurnRequest } from '../chat/chat-turn.types';
import { CHAT_EVENTS } from './chat-stream.constants';
import { StopReason, StreamClient, StreamKind } from './chat-stream.types';
import { StreamChatDto } from './dto/stream-chat.dto';
import { StreamRegenerateDto } from './dto/stream-regenerate.dto';

interface ActiveStream {
  controller: AbortController;
  done: Promise<void>;
}

// Streams chat turns to sockets, one at a time per socket, and stops them (chat:stop, a disconnect,
// shutdown). The turn itself runs in ChatTurnRunner; this only translates its events, so every
// started stream ends with exactly one of chat:end, chat:stopped or chat:error.
@Injectable()
export class ChatStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatStreamService.name);
  private readonly active = new Map<string, ActiveStream>();

  constructor(
    private readonly turns: ChatTurnRunner,
    private readonly rateLimits: RateLimitService,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownState,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  // `chat:start` (a new message) or `chat:regenerate` (a new answer to an assistant message's question):
  // the same path, so both get the same events, limits and stop handling.
  start(client: StreamClient, userId: string, payload: unknown, kind: StreamKind = 'start'): Promise<void> {
    if (this.active.has(client.id)) {
      this.emitError(client, new AppError('STREAM_IN_PROGRESS', 'A stream is already running on this connection'));
      return Promise.resolve();
    }
    if (this.shutdown.isShuttingDown) {
      this.emitError(client, new AppError('SHUTTING_DOWN', 'The server is restarting; retry in a moment'));
      return Promise.resolve();
    }
    // Registered before the first await, so a second chat:start during the turn's first read is refused.
    const stream: ActiveStream = { controller: new AbortController(), done: Promise.resolve() };
    this.active.set(client.id, stream);
    this.metrics.streamStarted();
    stream.done = this.run(client, userId, payload, kind, stream.controller.signal).finally(() => {
      this.active.delete(client.id);
      this.metrics.streamEnded();
    });
    return stream.done;
  }

  // chat:stop, a disconnect or shutdown: abort the upstream request; the turn stores the partial answer.
  stop(clientId: string, reason: StopReason): void {
    const stream = this.active.get(clientId);
    if (!stream || stream.controller.signal.aborted) return;
    this.logger.debug({ msg: 'stream stopped', socketId: clientId, reason });
    stream.controller.abort();
  }

  // Stop taking streams, give running ones the grace period, then abort and store what remains.
  async beforeApplicationShutdown(): Promise<void> {
    if (this.active.size === 0) return;
    const finished = Promise.all([...this.active.values()].map((s) => s.done));
    const graceMs = this.config.get('SHUTDOWN_GRACE_MS');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([finished, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(`shutdown: aborting ${this.active.size} stream(s) after ${graceMs} ms`);
      for (const id of this.active.keys()) this.stop(id, 'shutdown');
      await finished;
    }
  }

  private async run(client: StreamClient, userId: string, payload: unknown, kind: StreamKind, signal: AbortSignal): Promise<void> {
    try {
      const { input, regenerate } = await turnOf(kind, payload);
      const events = this.turns.run({
        userId,
        input,
        regenerate,
        transport: 'ws',
        isStreamed: true,
        signal,
        // Each stream gets its own id, so its log lines correlate like an HTTP request's.
        requestId: randomUUID(),
        admission: this.rateLimits.assertAllowed('ai', userId),
      });
      let conversationId = input.conversationId ?? '';
      for await (const event of events) {
        if (event.type === 'user-message') conversationId = event.message.conversationId;
        this.emit(client, event, conversationId);
      }
    } catch (error) {
      this.emitError(client, error);
    }
  }

  private emit(client: StreamClient, event: TurnEvent, conversationId: string): void {
    switch (event.type) {
      case 'conversation':
        client.emit(CHAT_EVENTS.conversation, { conversationId: event.conversationId });
        return;
      case 'user-message':
        client.emit(CHAT_EVENTS.userMessage, { messageId: event.message.id, content: event.message.content, conversationId });
        return;
      case 'delta':
        client.emit(CHAT_EVENTS.message, { content: event.content, conversationId });
        return;
      case 'end':
        client.emit(CHAT_EVENTS.end, {
          totalTokens: event.message.tokens ?? 0,
          model: event.message.model,
          costUsd: event.message.costUsd,
          messageId: event.message.id,
          conversationId,
          ...(event.message.citations ? { citations: event.message.citations } : {}),
        });
        return;
      case 'stopped':
        client.emit(CHAT_EVENTS.stopped, { conversationId, messageId: event.message.id });
        return;
    }
  }

  private emitError(client: StreamClient, error: unknown): void {
    const { status, message, fields } = toClientError(error);
    if (status >= 500 && !(error instanceof AppError)) this.logger.error({ err: error, socketId: client.id }, 'stream failed');
    client.emit(CHAT_EVENTS.error, { message: Array.isArray(message) ? message.join('; ') : message, code: status, ...fields });
  }
}

// A stream's payload, validated, as the turn runner takes it.
async function turnOf(kind: StreamKind, payload: unknown): Promise<Pick<TurnRequest, 'input' | 'regenerate'>> {
  if (kind === 'start') return { input: await validateDto(StreamChatDto, payload) };
  const { conversationId, messageId, model, maxTokens, temperature } = await validateDto(StreamRegenerateDto, payload);
  return { input: { conversationId, model, maxTokens, temperature }, regenerate: { messageId } };
}
