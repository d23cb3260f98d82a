import { Inject, Injectable, Logger } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import type Redis from 'ioredis';
import { AppConfigService } from '../config/app-config.service';
import { REDIS_CLIENT, socketIoKey } from '../redis/redis.constants';
import { AI_NAMESPACE, userRoom } from './realtime.constants';

// Sends an event to every socket of a user, on every instance, from any process: the Redis
// emitter publishes on the adapter's channel, so a worker without a Socket.IO server reaches the
// sockets of the api instances, and an `all` process reaches its own through the same path.
@Injectable()
export class UserEventsPublisher {
  private readonly logger = new Logger(UserEventsPublisher.name);
  private readonly namespace: Emitter;

  constructor(@Inject(REDIS_CLIENT) redis: Redis, config: AppConfigService) {
    // The emitter drops publish()'s promise; the fail-fast client rejects it while Redis is down,
    // which must be logged rather than left unhandled.
    const publisher = {
      publish: (channel: string, message: string | Buffer) =>
        redis.publish(channel, message).catch((error: unknown) => this.logger.warn({ err: error, channel }, 'could not publish a socket event')),
    };
    this.namespace = new Emitter(publisher, { key: socketIoKey(config.get('REDIS_PREFIX')) }).of(AI_NAMESPACE);
  }

  // Best effort, like any socket event: a user who is offline (or Redis down) misses it, and the
  // state it announces stays readable over REST.
  emitToUser(userId: string, event: string, payload: object): void {
    this.namespace.to(userRoom(userId)).emit(event, payload);
  }

  // Closes every socket of a user on every instance (an account that was disabled). A closed
  // socket ends its running stream as a disconnect does: the upstream call stops, the partial is kept.
  disconnectUser(userId: string): void {
    this.namespace.in(userRoom(userId)).disconnectSockets(true);
  }
}
