import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfigService } from '../../config/app-config.service';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { LOG_BATCH_MAX_CHUNKS, LOG_BATCH_WINDOW_MS, LOG_MAX_ENTRIES, RUNNING_TTL_MS } from './chat-stream.constants';
import type { LogEntry, StreamControl, StreamInfo } from './chat-stream.types';

type Listener = () => void;

// Where streams live in Redis, for every instance to see:
//   <prefix>:ai-stream:<id>       a hash: owner, conversation, start, resumable, running or ended;
//   <prefix>:ai-stream:<id>:log   a Redis Stream of the resumable stream's chunks, one entry per batch
//                                 of chunks, then one entry for its terminal event;
//   <prefix>:ai-streams:<userId>  the ids of the user's running streams;
// plus one channel that names the streams appended to by each flush, and one control channel that
// routes stops to the instance running the stream. While a stream runs its keys expire after
// RUNNING_TTL_MS unless its instance renews them, so a crashed instance leaves nothing for long.
@Injectable()
export class StreamLogService implements OnApplicationShutdown {
  private readonly logger = new Logger(StreamLogService.name);
  private readonly prefix: string;
  // One subscriber connection per process, for the control channel and the appended channels.
  private readonly subscriber: Redis;
  // Readers of this process by stream id, woken by the appended channel.
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly controlListeners = new Set<(control: StreamControl) => void>();
  private readonly controlChannel: string;
  private readonly appendedChannel: string;
  private readonly subscriptions = new Map<string, Promise<unknown>>();
  // Chunks not yet in Redis, by stream: one flush writes them all, for every stream of the process.
  private pending = new Map<string, Array<[number, string]>>();
  private flushTimer?: NodeJS.Timeout;
  private written: Promise<void> = Promise.resolve();
  // Streams whose log already has its expiry.
  private readonly expiring = new Set<string>();

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly config: AppConfigService,
  ) {
    this.prefix = `${config.get('REDIS_PREFIX')}:ai-stream`;
    this.controlChannel = `${config.get('REDIS_PREFIX')}:ai-streams:control`;
    this.appendedChannel = `${config.get('REDIS_PREFIX')}:ai-streams:appended`;
    // Queues commands while reconnecting (unlike the fail-fast client): subscriptions must survive a restart.
    this.subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  // After the streams' shutdown grace period (beforeApplicationShutdown), so that their last chunks
  // are written and their readers here keep following until then.
  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private metaKey = (streamId: string) => `${this.prefix}:${streamId}`;
  private logKey = (streamId: string) => `${this.prefix}:${streamId}:log`;
  private userKey = (userId: string) => `${this.prefix}s:${userId}`;

  // A stream becomes visible (listed, stoppable, resumable) once its conversation is known.
  async register(info: StreamInfo): Promise<void> {
    await this.redis
      .pipeline()
      .hset(this.metaKey(info.streamId), {
        userId: info.userId,
        conversationId: info.conversationId,
        startedAt: info.startedAt,
        resumable: info.resumable ? '1' : '0',
        state: 'running',
      })
      .pexpire(this.metaKey(info.streamId), RUNNING_TTL_MS)
      .sadd(this.userKey(info.userId), info.streamId)
      .pexpire(this.userKey(info.userId), RUNNING_TTL_MS)
      .exec();
  }

  // The running streams of this instance are still alive: push their expiry back.
  async renew(streams: Array<{ streamId: string; userId: string }>): Promise<void> {
    if (streams.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { streamId, userId } of streams) {
      pipeline.pexpire(this.metaKey(streamId), RUNNING_TTL_MS).pexpire(this.logKey(streamId), RUNNING_TTL_MS).pexpire(this.userKey(userId), RUNNING_TTL_MS);
    }
    await pipeline.exec();
  }

  // A resumable stream's chunk: only kept in memory until the next flush, which writes the chunks
  // of every stream of the process that arrived within LOG_BATCH_WINDOW_MS (or as soon as one
  // stream has LOG_BATCH_MAX_CHUNKS) in one round trip: an entry per stream, one notification.
  append(streamId: string, seq: number, content: string): void {
    let batch = this.pending.get(streamId);
    if (!batch) {
      batch = [];
      this.pending.set(streamId, batch);
    }
    batch.push([seq, content]);
    if (batch.length >= LOG_BATCH_MAX_CHUNKS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), LOG_BATCH_WINDOW_MS);
  }

  // Chained, so batches land in order even when one round trip is slower than the next window.
  private flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.size === 0) return this.written;
    const batches = this.pending;
    this.pending = new Map();
    this.written = this.written
      .then(() => this.writeBatches(batches))
      // The streams go on for their own clients; only resuming them can miss what was lost.
      .catch((error: unknown) => this.logger.warn({ err: error, streams: batches.size }, 'could not append to stream logs'));
    return this.written;
  }

  private async writeBatches(batches: Map<string, Array<[number, string]>>): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const [streamId, messages] of batches) {
      pipeline.xadd(this.logKey(streamId), 'MAXLEN', '~', LOG_MAX_ENTRIES, '*', 'm', JSON.stringify(messages));
      if (!this.expiring.has(streamId)) {
        this.expiring.add(streamId);
        pipeline.pexpire(this.logKey(streamId), RUNNING_TTL_MS);
      }
    }
    await pipeline.publish(this.appendedChannel, [...batches.keys()].join(',')).exec();
  }

  // The stream ended: its terminal event closes the log, which stays readable for the retention
  // period (a stream that is not resumable has no log and goes at once).
  async end(info: StreamInfo, terminal: { event: string; payload: object }): Promise<void> {
    const meta = this.metaKey(info.streamId);
    const pipeline = this.redis.pipeline().srem(this.userKey(info.userId), info.streamId);
    if (!info.resumable) {
      await pipeline.del(meta).exec();
      return;
    }
    // Its last chunks first.
    await this.flush();
    this.expiring.delete(info.streamId);
    const retention = this.config.get('AI_STREAM_RETENTION_MS');
    const log = this.logKey(info.streamId);
    await pipeline
      .xadd(log, '*', 't', terminal.event, 'd', JSON.stringify(terminal.payload))
      .hset(meta, 'state', 'ended')
      .pexpire(meta, retention)
      .pexpire(log, retention)
      .publish(this.appendedChannel, info.streamId)
      .exec();
  }

  async find(streamId: string): Promise<StreamInfo | null> {
    const hash = await this.redis.hgetall(this.metaKey(streamId));
    return toInfo(streamId, hash);
  }

  // The user's running streams, oldest first; ids whose stream has expired are dropped.
  async listRunning(userId: string): Promise<StreamInfo[]> {
    const ids = await this.redis.smembers(this.userKey(userId));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.metaKey(id));
    const results = (await pipeline.exec()) ?? [];
    const infos = ids.map((id, i) => toInfo(id, results[i]?.[1] as Record<string, string> | undefined));
    const gone = ids.filter((_, i) => infos[i]?.state !== 'running');
    if (gone.length) await this.redis.srem(this.userKey(userId), ...gone);
    return infos.filter((info): info is StreamInfo => info?.state === 'running').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  // Log entries after `afterId` ('-': from the start), at most `count`.
  async read(streamId: string, afterId: string, count: number): Promise<Array<{ id: string; entry: LogEntry }>> {
    const rows = await this.redis.xrange(this.logKey(streamId), afterId === '-' ? '-' : `(${afterId}`, '+', 'COUNT', count);
    return rows.map(([id, fields]) => ({ id, entry: toEntry(fields) }));
  }

  async exists(streamId: string): Promise<boolean> {
    return (await this.redis.exists(this.metaKey(streamId))) === 1;
  }

  // Calls `listener` after each append to the stream's log; resolves once subscribed, so a read
  // made after it misses nothing.
  async onAppend(streamId: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(streamId);
    if (!set) {
      set = new Set();
      this.listeners.set(streamId, set);
    }
    set.add(listener);
    const remove = () => {
      const current = this.listeners.get(streamId);
      if (current?.delete(listener) && current.size === 0) this.listeners.delete(streamId);
    };
    try {
      await this.subscribe(this.appendedChannel);
    } catch (error) {
      remove();
      throw error;
    }
    return remove;
  }

  async onControl(listener: (control: StreamControl) => void): Promise<void> {
    this.controlListeners.add(listener);
    await this.subscribe(this.controlChannel);
  }

  private subscribe(channel: string): Promise<unknown> {
    let subscribed = this.subscriptions.get(channel);
    if (!subscribed) {
      subscribed = this.subscriber.subscribe(channel);
      // A failed subscription is tried again by the next caller.
      subscribed.catch(() => this.subscriptions.delete(channel));
      this.subscriptions.set(channel, subscribed);
    }
    return subscribed;
  }

  async publishControl(control: StreamControl): Promise<void> {
    await this.redis.publish(this.controlChannel, JSON.stringify(control));
  }

  private dispatch(channel: string, message: string): void {
    if (channel === this.controlChannel) {
      let control: StreamControl;
      try {
        control = JSON.parse(message) as StreamControl;
      } catch {
        return;
      }
      for (const listener of this.controlListeners) listener(control);
      return;
    }
    if (channel !== this.appendedChannel) return;
    for (const streamId of message.split(',')) for (const listener of this.listeners.get(streamId) ?? []) listener();
  }
}

function toInfo(streamId: string, hash: Record<string, string> | undefined): StreamInfo | null {
  if (!hash?.userId) return null;
  return {
    streamId,
    userId: hash.userId,
    conversationId: hash.conversationId,
    startedAt: hash.startedAt,
    resumable: hash.resumable === '1',
    state: hash.state === 'ended' ? 'ended' : 'running',
  };
}

function toEntry(fields: string[]): LogEntry {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const messages = values.get('m');
  if (messages !== undefined) return { kind: 'messages', messages: JSON.parse(messages) as Array<[number, string]> };
  return { kind: 'terminal', event: values.get('t') ?? 'chat:error', payload: JSON.parse(values.get('d') ?? '{}') as object };
}
