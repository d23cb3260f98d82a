import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { AppError, NotFoundError } from '../../common/errors/app-error';
import { toClientError } from '../../common/errors/client-error';
import { validateDto } from '../../common/validation/validate-dto';
import { AppConfigService } from '../../config/app-config.service';
import { ShutdownState } from '../../lifecycle/shutdown-state.service';
import { MetricsService } from '../../metrics/metrics.service';
import { RateLimitService } from '../../rate-limit/rate-limit.service';
import { ChatTurnRunner } from '../chat/chat-turn.runner';
import { TurnEvent, TurnRequest } from '../chat/chat-turn.types';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { AiTransport } from '../llm/llm.types';
import { CHAT_EVENTS, RUNNING_TTL_MS } from './chat-stream.constants';
import { LogReader, StopReason, StreamClient, StreamControl, StreamInfo } from './chat-stream.types';
import { ResumeStreamDto } from './dto/resume-stream.dto';
import { StreamChatDto } from './dto/stream-chat.dto';
import { StreamRegenerateDto } from './dto/stream-regenerate.dto';
import { followLog } from './stream-log-io';
import { StreamLogService } from './stream-log.service';

interface ActiveStream {
  streamId: string;
  userId: string;
  controller: AbortController;
  done: Promise<void>;
  // A resumable stream outlives its client: a disconnect only stops sending to it.
  resumable: boolean;
  client: StreamClient | null;
  // Set once the turn's conversation is known and the stream is registered in Redis.
  info: StreamInfo | null;
}

type Terminal = { event: string; payload: object };

// What a streaming entry point hands to startTurn: the turn's events, once its input is validated.
export type TurnSource = (context: { signal: AbortSignal; streamId: string }) => Promise<AsyncIterable<TurnEvent>>;

// Streams chat turns and stops them (chat:stop, a disconnect, shutdown, a stop from another
// instance). The turn itself runs in ChatTurnRunner; this translates its events, numbers the chunks
// (`seq`), and keeps a resumable stream's log in Redis, so every started stream ends with exactly
// one of chat:end, chat:stopped or chat:error — for its own client and for every reader of its log.
@Injectable()
export class ChatStreamService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(ChatStreamService.name);
  // By stream id, and the stream each client started (one at a time per client).
  private readonly active = new Map<string, ActiveStream>();
  private readonly byClient = new Map<string, string>();
  // Log readers by client, stopped when the client goes.
  private readonly readers = new Map<string, Map<string, () => void>>();
  private renewTimer?: NodeJS.Timeout;

  constructor(
    private readonly turns: ChatTurnRunner,
    private readonly rateLimits: RateLimitService,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownState,
    private readonly log: StreamLogService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.log.onControl((control) => this.onControl(control));
    this.renewTimer = setInterval(() => {
      const running = [...this.active.values()].filter((s) => s.info).map((s) => ({ streamId: s.streamId, userId: s.userId }));
      this.log.renew(running).catch((error: unknown) => this.logger.warn({ err: error }, 'could not renew running streams'));
    }, RUNNING_TTL_MS / 3);
    this.renewTimer.unref();
  }

  // After the shutdown grace period: streams finishing in it still renew and are still read.
  onApplicationShutdown(): void {
    clearInterval(this.renewTimer);
    for (const client of this.readers.keys()) this.detach(client);
  }

  get activeCount(): number {
    return this.active.size;
  }

  // chat:start: the POST /chat body, plus `resumable`.
  start(client: StreamClient, userId: string, payload: unknown): Promise<void> {
    const resumable = typeof payload === 'object' && payload !== null && (payload as { resumable?: unknown }).resumable === true;
    return this.startTurn(client, userId, { resumable }, async ({ signal, streamId }) => {
      const input = await validateDto(StreamChatDto, payload);
      return this.turnEvents(userId, input, 'ws', signal, streamId);
    });
  }

  // chat:regenerate: a new answer to an assistant message's question, through the same path as
  // chat:start, so it gets the same events, limits, stop and resume.
  regenerate(client: StreamClient, userId: string, payload: unknown): Promise<void> {
    const resumable = typeof payload === 'object' && payload !== null && (payload as { resumable?: unknown }).resumable === true;
    return this.startTurn(client, userId, { resumable }, async ({ signal, streamId }) => {
      const { conversationId, messageId, model, maxTokens, temperature } = await validateDto(StreamRegenerateDto, payload);
      return this.turnEvents(userId, { conversationId, model, maxTokens, temperature }, 'ws', signal, streamId, undefined, { messageId });
    });
  }

  // POST /ai/chat/stream: an already validated body; always resumable.
  startSse(client: StreamClient, userId: string, input: ChatRequestDto, admission: Promise<void>): Promise<void> {
    return this.startTurn(client, userId, { resumable: true }, ({ signal, streamId }) =>
      Promise.resolve(this.turnEvents(userId, input, 'sse', signal, streamId, admission)),
    );
  }

  // Runs one streamed turn for a client: any streaming entry point (a new message, a regenerated
  // answer) gives its events here and gets streamId, seq, the log, stop and resume.
  startTurn(client: StreamClient, userId: string, options: { resumable: boolean }, source: TurnSource): Promise<void> {
    if (this.byClient.has(client.id)) {
      this.emitError(client, new AppError('STREAM_IN_PROGRESS', 'A stream is already running on this connection'));
      return Promise.resolve();
    }
    if (this.shutdown.isShuttingDown) {
      this.emitError(client, new AppError('SHUTTING_DOWN', 'The server is restarting; retry in a moment'));
      return Promise.resolve();
    }
    // Registered before the first await, so a second start during the turn's first read is refused.
    const stream: ActiveStream = {
      streamId: randomUUID(),
      userId,
      controller: new AbortController(),
      done: Promise.resolve(),
      resumable: options.resumable,
      client,
      info: null,
    };
    this.active.set(stream.streamId, stream);
    this.byClient.set(client.id, stream.streamId);
    this.metrics.streamStarted();
    stream.done = this.run(stream, source).finally(() => {
      this.active.delete(stream.streamId);
      this.releaseClient(stream);
      this.metrics.streamEnded();
    });
    return stream.done;
  }

  // chat:stop without a stream id, a disconnect or shutdown: abort the upstream request of the
  // client's own stream; the turn stores the partial answer. A disconnect leaves a resumable stream
  // running, without its client.
  stop(clientId: string, reason: StopReason): void {
    const streamId = this.byClient.get(clientId);
    const stream = streamId ? this.active.get(streamId) : undefined;
    if (reason === 'disconnect') {
      this.detach(clientId);
      if (stream?.resumable) {
        stream.client = null;
        this.byClient.delete(clientId);
        return;
      }
    }
    if (stream) this.abort(stream, reason);
  }

  // chat:stop { streamId } and POST /streams/:id/stop: stops the user's stream wherever it runs.
  // Unknown, expired or another user's stream: 404. A stream that has already ended: nothing to do.
  async stopStream(userId: string, streamId: string): Promise<void> {
    const local = this.active.get(streamId);
    if (local && local.userId === userId) return this.abort(local, 'client');
    const info = await this.log.find(streamId);
    if (!info || info.userId !== userId) throw new NotFoundError('Stream');
    if (info.state === 'running') await this.log.publishControl({ type: 'stop', streamId });
  }

  // Stops every running stream of a user on every instance (their partial answers are stored as
  // for any stop), e.g. when the user is disabled.
  async stopUserStreams(userId: string): Promise<void> {
    for (const stream of this.active.values()) if (stream.userId === userId) this.abort(stream, 'remote');
    await this.log.publishControl({ type: 'stop-user', userId });
  }

  // GET /streams.
  listRunning(userId: string): Promise<StreamInfo[]> {
    return this.log.listRunning(userId);
  }

  // A stream the user may read: 404 for an unknown, expired, not resumable or another user's one.
  async findResumable(userId: string, streamId: string): Promise<StreamInfo> {
    const info = await this.log.find(streamId);
    if (!info || info.userId !== userId || !info.resumable) throw new NotFoundError('Stream');
    return info;
  }

  // Reads a stream's log after `lastSeq`, then follows it live, to its terminal event.
  follow(streamId: string, lastSeq: number, reader: LogReader): Promise<() => void> {
    const lost = () => reader.terminal(CHAT_EVENTS.error, { message: 'The stream was interrupted', code: 502 });
    return followLog(this.log, streamId, lastSeq, reader, lost);
  }

  // chat:resume { streamId, lastSeq } on a socket.
  async resume(client: StreamClient, userId: string, payload: unknown): Promise<void> {
    try {
      const { streamId, lastSeq = 0 } = await validateDto(ResumeStreamDto, payload);
      const info = await this.findResumable(userId, streamId);
      // The socket runs this stream itself and has missed nothing of it.
      if (this.byClient.get(client.id) === streamId) return;
      // A second resume of the same stream on one client replaces the first.
      this.readers.get(client.id)?.get(streamId)?.();
      let isEnded = false;
      const reader: LogReader = {
        message: (seq, content) => {
          client.emit(CHAT_EVENTS.message, { content, conversationId: info.conversationId, seq, streamId });
          return true;
        },
        terminal: (event, data) => {
          isEnded = true;
          this.readers.get(client.id)?.delete(streamId);
          client.emit(event, data);
        },
      };
      const stop = await this.follow(streamId, lastSeq, reader);
      if (isEnded) return;
      if (!client.connected) return stop();
      const readers = this.readers.get(client.id) ?? new Map<string, () => void>();
      readers.set(streamId, stop);
      this.readers.set(client.id, readers);
    } catch (error) {
      this.emitError(client, error);
    }
  }

  // chat:stop on a socket: with a streamId, any stream of the user; without, the socket's own.
  async stopFromClient(client: StreamClient, userId: string, payload: unknown): Promise<void> {
    try {
      // Part 1 clients send chat:stop with any payload (or none): only a streamId changes what it stops.
      const streamId = typeof payload === 'object' && payload !== null ? (payload as { streamId?: unknown }).streamId : undefined;
      if (streamId === undefined || streamId === null) return this.stop(client.id, 'client');
      if (typeof streamId !== 'string' || !isUUID(streamId)) throw new AppError('VALIDATION_FAILED', 'streamId must be a UUID');
      await this.stopStream(userId, streamId);
    } catch (error) {
      this.emitError(client, error);
    }
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
      for (const stream of this.active.values()) this.abort(stream, 'shutdown');
      await finished;
    }
  }

  private releaseClient(stream: ActiveStream): void {
    if (stream.client && this.byClient.get(stream.client.id) === stream.streamId) this.byClient.delete(stream.client.id);
  }

  private detach(clientId: string): void {
    const readers = this.readers.get(clientId);
    if (!readers) return;
    this.readers.delete(clientId);
    for (const stop of readers.values()) stop();
  }

  private abort(stream: ActiveStream, reason: StopReason): void {
    if (stream.controller.signal.aborted) return;
    this.logger.debug({ msg: 'stream stopped', streamId: stream.streamId, reason });
    stream.controller.abort();
  }

  private onControl(control: StreamControl): void {
    if (control.type === 'stop') {
      const stream = this.active.get(control.streamId);
      if (stream) this.abort(stream, 'remote');
      return;
    }
    for (const stream of this.active.values()) if (stream.userId === control.userId) this.abort(stream, 'remote');
  }

  private turnEvents(
    userId: string,
    input: ChatRequestDto,
    transport: AiTransport,
    signal: AbortSignal,
    streamId: string,
    admission?: Promise<void>,
    regenerate?: TurnRequest['regenerate'],
  ): AsyncIterable<TurnEvent> {
    return this.turns.run({
      userId,
      input,
      regenerate,
      transport,
      isStreamed: true,
      signal,
      // The stream id correlates its log lines like an HTTP request's id.
      requestId: streamId,
      admission: admission ?? this.rateLimits.assertAllowed('ai', userId),
    });
  }

  private async run(stream: ActiveStream, source: TurnSource): Promise<void> {
    const { streamId } = stream;
    let terminal: Terminal | undefined;
    try {
      const events = await source({ signal: stream.controller.signal, streamId });
      let conversationId = '';
      let seq = 0;
      for await (const event of events) {
        switch (event.type) {
          case 'conversation':
            this.send(stream, CHAT_EVENTS.conversation, { conversationId: event.conversationId, streamId });
            break;
          case 'user-message': {
            conversationId = event.message.conversationId;
            const info: StreamInfo = {
              streamId,
              userId: stream.userId,
              conversationId,
              startedAt: new Date().toISOString(),
              resumable: stream.resumable,
              state: 'running',
            };
            stream.info = info;
            // Not awaited: the round trip is sent before the event, so it reaches Redis before any
            // request that the event makes possible (a stop or a resume from elsewhere).
            this.log.register(info).catch((error: unknown) => this.logger.warn({ err: error, streamId }, 'could not register a stream'));
            this.send(stream, CHAT_EVENTS.userMessage, { messageId: event.message.id, content: event.message.content, conversationId, streamId });
            break;
          }
          case 'delta':
            seq += 1;
            this.send(stream, CHAT_EVENTS.message, { content: event.content, conversationId, seq, streamId });
            if (stream.resumable) this.log.append(streamId, seq, event.content);
            break;
          case 'end':
            terminal = {
              event: CHAT_EVENTS.end,
              payload: {
                totalTokens: event.message.tokens ?? 0,
                model: event.message.model,
                costUsd: event.message.costUsd,
                messageId: event.message.id,
                conversationId,
                ...(event.message.citations ? { citations: event.message.citations } : {}),
              },
            };
            break;
          case 'stopped':
            terminal = { event: CHAT_EVENTS.stopped, payload: { conversationId, messageId: event.message.id } };
            break;
        }
      }
      terminal ??= { event: CHAT_EVENTS.error, payload: this.errorPayload(new AppError('LLM_UNAVAILABLE', 'The AI stream ended without a result'), streamId) };
    } catch (error) {
      if (!stream.info) {
        // Refused before it started (invalid input, 404, budget, rate limit): nothing to resume.
        this.releaseClient(stream);
        if (stream.client) this.emitError(stream.client, error);
        return;
      }
      terminal = { event: CHAT_EVENTS.error, payload: this.errorPayload(error, streamId) };
    }
    // The client may start its next stream as soon as it has this one's end.
    this.releaseClient(stream);
    this.send(stream, terminal.event, terminal.payload);
    if (stream.info) await this.log.end(stream.info, terminal).catch((error: unknown) => this.logger.warn({ err: error, streamId }, 'could not end a stream'));
  }

  private send(stream: ActiveStream, event: string, payload: object): void {
    if (stream.client?.connected) stream.client.emit(event, payload);
  }

  private errorPayload(error: unknown, streamId?: string): object {
    const { status, message, fields } = toClientError(error);
    if (status >= 500 && !(error instanceof AppError)) this.logger.error({ err: error, streamId }, 'stream failed');
    return { message: Array.isArray(message) ? message.join('; ') : message, code: status, ...fields };
  }

  private emitError(client: StreamClient, error: unknown): void {
    if (client.failBeforeStart?.(error)) return;
    client.emit(CHAT_EVENTS.error, this.errorPayload(error));
  }
}
