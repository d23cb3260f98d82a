import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfigService } from '../config/app-config.service';
import { REDIS_CLIENT } from './redis.constants';

// Commands fail at once while Redis is down (no offline queue), so requests answer 503 quickly
// instead of hanging; the client keeps reconnecting in the background.
const FAIL_FAST_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
};

function createRedis(url: string): Redis {
  const redis = new Redis(url, FAIL_FAST_REDIS_OPTIONS);
  // Connection errors surface on the commands that need Redis; an unhandled 'error' event would crash.
  redis.on('error', () => undefined);
  return redis;
}

// Boot does not fail when Redis is down (health reports it); it only waits briefly for the first connection.
function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [AppConfigService],
      useFactory: async (config: AppConfigService) => {
        const redis = createRedis(config.get('REDIS_URL'));
        await waitUntilReady(redis, 3_000);
        return redis;
      },
    },
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
