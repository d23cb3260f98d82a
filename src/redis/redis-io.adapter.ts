import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import { Server, ServerOptions } from 'socket.io';
import { corsOrigins } from '../common/cors';
import { AppConfigService } from '../config/app-config.service';
import { socketIoKey } from './redis.constants';

// Socket.IO through Redis pub/sub, so rooms and broadcasts span every instance behind the load
// balancer. CORS and the message size limit come from config (decorators cannot read it).
export class RedisIoAdapter extends IoAdapter {
  private pubClient?: Redis;
  private subClient?: Redis;

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfigService,
  ) {
    super(app);
  }

  async connectToRedis(): Promise<void> {
    // Pub/sub connections queue commands while reconnecting (unlike the fail-fast command client):
    // the subscription must survive a Redis restart.
    this.pubClient = new Redis(this.config.get('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: null });
    this.subClient = this.pubClient.duplicate();
    for (const client of [this.pubClient, this.subClient]) client.on('error', () => undefined);
    // Redis down at boot must not stop the process: the clients keep reconnecting on their own.
    await Promise.all([this.pubClient.connect(), this.subClient.connect()]).catch(() => undefined);
  }

  createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    const server: Server = super.createIOServer(port, {
      ...(options as ServerOptions),
      cors: { origin: corsOrigins(this.config.get('CORS_ORIGIN')), credentials: true },
      maxHttpBufferSize: this.config.get('WS_MAX_HTTP_BUFFER_SIZE'),
    });
    if (this.pubClient && this.subClient) {
      server.adapter(createAdapter(this.pubClient, this.subClient, { key: socketIoKey(this.config.get('REDIS_PREFIX')) }));
    }
    return server;
  }

  async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all([this.pubClient?.quit().catch(() => undefined), this.subClient?.quit().catch(() => undefined)]);
  }
}
