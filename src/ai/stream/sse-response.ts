import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { CHAT_EVENTS, TERMINAL_EVENTS } from './chat-stream.constants';
import type { LogReader, StreamClient, StreamInfo } from './chat-stream.types';

// The SSE names of the socket's events: `chat:message` is `message`, and so on.
const sseName = (event: string) => event.replace(/^chat:/, '');

// A text/event-stream response: events with `id: <seq>` where they have one, comment lines while
// idle so proxies keep it open, and the socket's write buffer as the only buffer (`write` says when
// it is full; `drained` waits until it is not). Until it opens, the reply can still answer with a
// JSON error; opening takes the Node response over from Fastify (`hijack`).
export class SseResponse {
  private heartbeat?: NodeJS.Timeout;
  private isOpen = false;
  private isClosed = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly res: ServerResponse;

  constructor(
    private readonly reply: FastifyReply,
    private readonly heartbeatMs: number,
  ) {
    this.res = reply.raw;
    this.res.on('close', () => {
      this.isClosed = true;
      clearInterval(this.heartbeat);
      for (const listener of this.closeListeners) listener();
    });
  }

  get opened(): boolean {
    return this.isOpen;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    this.reply.hijack();
    // The headers set on the reply so far (CORS, rate limit) go out with the stream's own.
    this.res.writeHead(200, {
      ...(this.reply.getHeaders() as OutgoingHttpHeaders),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx buffers proxied responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    this.res.flushHeaders();
    this.heartbeat = setInterval(() => {
      if (!this.isClosed) this.res.write(': ping\n\n');
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  // False: the client reads slower than the stream comes; wait for `drained` before writing more.
  write(event: string, data: object, id?: number): boolean {
    if (this.isClosed) return true;
    return this.res.write(`event: ${sseName(event)}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  drained(): Promise<void> {
    if (this.isClosed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        resolve();
      };
      this.res.once('drain', done);
      this.onClose(done);
    });
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (!this.isClosed) this.res.end();
  }

  // Writes what a log reader reads: the missed chunks, the live ones, then the terminal event.
  reader(info: Pick<StreamInfo, 'streamId' | 'conversationId'>): LogReader {
    return {
      message: (seq, content) => this.write(CHAT_EVENTS.message, { content, conversationId: info.conversationId, seq, streamId: info.streamId }, seq),
      terminal: (event, data) => {
        this.write(event, data);
        this.end();
      },
      drained: () => this.drained(),
    };
  }
}

// The client of a stream started over SSE. Until the stream's first event the response can still
// answer with a JSON error (`started` rejects with it). Live events are written as they come; when
// the client stops keeping up, the live chunks are no longer written and the rest is read from the
// stream's log at the client's pace (`catchUp`), so nothing is held in memory for a slow reader.
export class SseStreamClient implements StreamClient {
  readonly id = `sse:${randomUUID()}`;
  readonly started: Promise<void>;
  private resolveStarted!: () => void;
  private rejectStarted!: (error: unknown) => void;
  private lastSeq = 0;
  private isBehind = false;
  private info?: Pick<StreamInfo, 'streamId' | 'conversationId'>;

  constructor(
    private readonly sse: SseResponse,
    private readonly catchUp: (info: Pick<StreamInfo, 'streamId' | 'conversationId'>, lastSeq: number, reader: LogReader) => Promise<() => void>,
  ) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    // Settled by the first event or failure; a client gone before either must not leave it unhandled.
    this.started.catch(() => undefined);
  }

  get connected(): boolean {
    return !this.sse.closed;
  }

  failBeforeStart(error: unknown): boolean {
    if (this.sse.opened) return false;
    this.rejectStarted(error);
    return true;
  }

  emit(event: string, payload: unknown): void {
    const data = payload as { seq?: number; streamId?: string; conversationId?: string };
    if (!this.sse.opened) {
      this.sse.open();
      this.resolveStarted();
    }
    if (event === CHAT_EVENTS.userMessage) this.info = { streamId: data.streamId ?? '', conversationId: data.conversationId ?? '' };
    // Behind: the log reader writes the rest, terminal event included.
    if (this.isBehind) return;
    if (event === CHAT_EVENTS.message && data.seq !== undefined) {
      this.lastSeq = data.seq;
      if (!this.sse.write(event, data, data.seq) && this.info) this.fallBehind(this.info);
      return;
    }
    this.sse.write(event, data);
    if (TERMINAL_EVENTS.includes(event)) this.sse.end();
  }

  private fallBehind(info: Pick<StreamInfo, 'streamId' | 'conversationId'>): void {
    this.isBehind = true;
    void this.sse
      .drained()
      .then(async () => {
        if (this.sse.closed) return;
        const stop = await this.catchUp(info, this.lastSeq, this.sse.reader(info));
        this.sse.onClose(stop);
      })
      .catch(() => {
        this.sse.write(CHAT_EVENTS.error, { message: 'Service temporarily unavailable', code: 503 });
        this.sse.end();
      });
  }
}
