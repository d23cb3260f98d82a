import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { AppError } from '../../common/errors/app-error';
import { toClientError } from '../../common/errors/to-app-error';
import { validateDto } from '../../common/validation/validate-dto';
import { AppConfigService } from '../../config/app-config.service';
import { ShutdownState } from '../../lifecycle/shutdown-state.service';
import { MetricsService } from '../../metrics/metrics.service';
import { RateLimitService } from '../../rate-limit/rate-limit.service';
import { CHAT_EVENTS } from '../ai.constants';
import { ChatTurn, TurnOutcome } from '../chat/chat-turn.types';
import { ChatService } from '../chat/chat.service';
import { StreamChatDto } from '../dto/stream-chat.dto';
import { OpenAiService } from '../llm/openai.service';
import { StreamEvent } from '../llm/llm.types';
import { StopReason, StreamClient } from './chat-stream.types';

// Streams' database phases (pre-flight, final write) that may run at once: below the pool size
// (20), so a burst of chat:start waits here in memory instead of timing out for a connection.
const DB_PHASE_CONCURRENCY = 16;

interface ActiveStream {
  controller: AbortController;
  stopReason?: StopReason;
  done: Promise<void>;
}

// Streams one chat turn to one socket. Every started stream ends with exactly one of chat:end,
// chat:stopped or chat:error, and its answer is stored once (complete, stopped or failed) with
// no database write per chunk.
@Injectable()
export class ChatStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatStreamService.name);
  private readonly active = new Map<string, ActiveStream>();
  private readonly dbPhase = pLimit(DB_PHASE_CONCURRENCY);

  constructor(
    private readonly chat: ChatService,
    private readonly llm: OpenAiService,
    private readonly rateLimits: RateLimitService,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownState,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  start(client: StreamClient, userId: string, payload: unknown): Promise<void> {
    if (this.active.has(client.id)) {
      return this.emitError(client, new AppError('STREAM_IN_PROGRESS', 'A stream is already running on this connection'));
    }
    if (this.shutdown.isShuttingDown) {
      return this.emitError(client, new AppError('SHUTTING_DOWN', 'The server is restarting; retry in a moment'));
    }
    // Registered before the first await, so a second chat:start during pre-flight is refused.
    const stream: ActiveStream = { controller: new AbortController(), done: Promise.resolve() };
    this.active.set(client.id, stream);
    this.metrics.streamStarted();
    stream.done = this.run(client, userId, payload, stream).finally(() => {
      this.active.delete(client.id);
      this.metrics.streamEnded();
    });
    return stream.done;
  }

  // chat:stop, a disconnect or shutdown: abort the upstream request; run() stores the partial answer.
  stop(clientId: string, reason: StopReason): void {
    const stream = this.active.get(clientId);
    if (!stream || stream.controller.signal.aborted) return;
    stream.stopReason = reason;
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

  private async run(client: StreamClient, userId: string, payload: unknown, stream: ActiveStream): Promise<void> {
    let turn: ChatTurn | undefined;
    let text = '';
    try {
      const dto = await validateDto(StreamChatDto, payload);
      // Each stream gets its own id, so its log lines correlate like an HTTP request's.
      const prepared = await this.dbPhase(() =>
        this.chat.prepareTurn(userId, dto, {
          transport: 'ws',
          requestId: randomUUID(),
          admission: this.rateLimits.assertAllowed('ai', userId),
        }),
      );
      // The request goes out while the hold is taken and the question stored (the first next() sends
      // it); nothing reaches the client before that write, so the event order is unchanged.
      const events = this.llm.streamCompletion(prepared.llmMessages, prepared.options, prepared.context, stream.controller.signal);
      const first = events.next();
      first.catch(() => undefined);
      turn = await this.dbPhase(() => this.chat.openTurn(prepared)).catch(async (error: unknown) => {
        stream.controller.abort();
        await first.catch(() => undefined);
        await events.return(undefined);
        throw error;
      });
      const { conversationId } = turn;
      if (turn.isNewConversation) client.emit(CHAT_EVENTS.conversation, { conversationId });
      client.emit(CHAT_EVENTS.userMessage, { messageId: turn.userMessage.id, content: turn.userMessage.content, conversationId });

      let end: Extract<StreamEvent, { type: 'end' }> | undefined;
      for (let next = await first; !next.done; next = await events.next()) {
        const event = next.value;
        if (event.type === 'delta') {
          text += event.content;
          client.emit(CHAT_EVENTS.message, { content: event.content, conversationId });
        } else {
          end = event;
        }
      }
      if (!end) throw new AppError('LLM_UNAVAILABLE', 'The AI stream ended without a result');
      const outcome: TurnOutcome = { content: text, model: end.model, usage: end.usage, status: end.isAborted ? 'stopped' : 'complete' };
      const message = await this.dbPhase(() => this.chat.completeTurn(turn!, outcome));
      if (end.isAborted) {
        client.emit(CHAT_EVENTS.stopped, { conversationId, messageId: message.id });
      } else {
        client.emit(CHAT_EVENTS.end, { totalTokens: end.usage.totalTokens, model: end.model, messageId: message.id, conversationId });
      }
    } catch (error) {
      await this.keepPartialAnswer(turn, text);
      await this.emitError(client, error);
    }
  }

  // The upstream failed mid-answer: what the user already saw is stored as `failed` (no tokens
  // counted). Either way the turn's hold on the budget goes back.
  private async keepPartialAnswer(turn: ChatTurn | undefined, text: string): Promise<void> {
    if (!turn) return;
    if (!text) return this.chat.abandonTurn(turn);
    const usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, isEstimated: true };
    await this.chat.completeTurn(turn, { content: text, model: turn.options.model, usage, status: 'failed' }).catch((error) => {
      this.logger.error({ err: error, conversationId: turn.conversationId }, 'could not store a failed partial answer');
      return this.chat.abandonTurn(turn);
    });
  }

  private async emitError(client: StreamClient, error: unknown): Promise<void> {
    const { status, message } = toClientError(error);
    if (status >= 500 && !(error instanceof AppError)) this.logger.error({ err: error, socketId: client.id }, 'stream failed');
    client.emit(CHAT_EVENTS.error, { message: Array.isArray(message) ? message.join('; ') : message, code: status });
  }
}
