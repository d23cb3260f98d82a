import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfigService } from '../../config/app-config.service';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { LOG_MAX_ENTRIES, RUNNING_TTL_MS } from './chat-stream.constants';
import type { LogEntry, StreamControl, StreamInfo } from './chat-stream.types';

type Listener = () => void;

// Where streams live in Redis, for every instance to see:
//   <prefix>:ai-stream:<id>       a hash: owner, conversation, start, resumable, running or ended;
//   <prefix>:ai-stream:<id>:log   a Redis Stream of the resumable stream's chunks, one entry per batch
//                                 of chunks, then one entry for its terminal event;
//   <prefix>:ai-streams:<userId>  the ids of the user's running streams;
// plus a channel per stream that says "appended" after each batch, and one control channel that
// routes stops to the instance running the stream. While a stream runs its keys expire after
// RUNNING_TTL_MS unless its instance renews them, so a crashed instance leaves nothing for long.
@Injectable()
export class StreamLogService implements OnModuleDestroy {
  private readonly logger = new Logger(StreamLogService.name);
  private readonly prefix: string;
  // One subscriber connection per process, for the control channel and the appended channels.
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly controlListeners = new Set<(control: StreamControl) => void>();
  private readonly controlChannel: string;
  private controlSubscribed?: Promise<unknown>;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly config: AppConfigService,
  ) {
    this.prefix = `${config.get('REDIS_PREFIX')}:ai-stream`;
    this.controlChannel = `${config.get('REDIS_PREFIX')}:ai-streams:control`;
    // Queues commands while reconnecting (unlike the fail-fast client): subscriptions must survive a restart.
    this.subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => this.dispatch(channel, message));
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private metaKey = (streamId: string) => `${this.prefix}:${streamId}`;
  private logKey = (streamId: string) => `${this.prefix}:${streamId}:log`;
  private appendedChannel = (streamId: string) => `${this.prefix}:${streamId}:appended`;
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

  // One batch of chunks: one entry, one notification (the first batch also sets the log's expiry).
  async appendBatch(streamId: string, messages: Array<[number, string]>, isFirst: boolean): Promise<void> {
    const pipeline = this.redis.pipeline().xadd(this.logKey(streamId), 'MAXLEN', '~', LOG_MAX_ENTRIES, '*', 'm', JSON.stringify(messages));
    if (isFirst) pipeline.pexpire(this.logKey(streamId), RUNNING_TTL_MS);
    await pipeline.publish(this.appendedChannel(streamId), '').exec();
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
    const retention = this.config.get('AI_STREAM_RETENTION_MS');
    const log = this.logKey(info.streamId);
    await pipeline
      .xadd(log, '*', 't', terminal.event, 'd', JSON.stringify(terminal.payload))
      .hset(meta, 'state', 'ended')
      .pexpire(meta, retention)
      .pexpire(log, retention)
      .publish(this.appendedChannel(info.streamId), '')
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
    const channel = this.appendedChannel(streamId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      set.add(listener);
      await this.subscriber.subscribe(channel);
    } else {
      set.add(listener);
    }
    return () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      void this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  async onControl(listener: (control: StreamControl) => void): Promise<void> {
    this.controlListeners.add(listener);
    this.controlSubscribed ??= this.subscriber.subscribe(this.controlChannel);
    await this.controlSubscribed;
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
    for (const listener of this.listeners.get(channel) ?? []) listener();
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
