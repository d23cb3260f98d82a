import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfigService } from '../config/app-config.service';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { UsersService } from '../users/users.service';
import { accountAccessChannel, AccountAccessMessage } from './access.constants';
import { DisabledAccounts } from './disabled-accounts';

// Which accounts are disabled, held in memory on every instance so that the check on each request
// and socket handshake is a Set lookup, not a database read. Loaded at start, kept current through
// Redis pub/sub, and loaded again whenever the subscription (re)connects, so a message missed while
// Redis was away cannot leave a disabled account working here.
const RELOAD_RETRY_MS = 5_000;

@Injectable()
export class AccountAccessService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AccountAccessService.name);
  private readonly disabled = new DisabledAccounts();
  private subscriber?: Redis;
  private retryTimer?: NodeJS.Timeout;
  private readonly channel: string;
  private readonly redisUrl: string;

  constructor(
    private readonly users: UsersService,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    config: AppConfigService,
  ) {
    this.channel = accountAccessChannel(config.get('REDIS_PREFIX'));
    this.redisUrl = config.get('REDIS_URL');
  }

  async onModuleInit(): Promise<void> {
    // Its own connection: a subscribed client can run nothing else. It queues commands while
    // reconnecting (unlike the fail-fast command client) so the subscription survives a restart.
    this.subscriber = new Redis(this.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, raw: string) => this.onMessage(channel, raw));
    this.subscriber.on('ready', () => void this.reload());
    await this.reload();
    // Not awaited: with Redis down the start goes on (health reports it); ioredis subscribes once
    // it connects and subscribes again after every reconnect.
    this.subscriber.connect().catch(() => undefined);
    // Loaded again once subscribed: a change made between the first load and the subscription is not lost.
    this.subscriber
      .subscribe(this.channel)
      .then(() => this.reload())
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not subscribe to account changes'));
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  isDisabled(userId: string): boolean {
    return this.disabled.has(userId);
  }

  // Applies the change here at once and tells every other instance.
  async announce(userId: string, disabled: boolean): Promise<void> {
    this.disabled.apply({ userId, disabled });
    const message: AccountAccessMessage = { userId, disabled };
    await this.redis.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      // The others reload the whole set when their subscription comes back.
      this.logger.warn({ err: error, userId }, 'could not announce an account change');
    });
  }

  private async reload(): Promise<void> {
    try {
      await this.disabled.load(() => this.users.findDisabledIds());
    } catch (error) {
      // The database is away: keep the last known set and try again shortly.
      this.logger.warn({ err: error }, 'could not load the disabled accounts; keeping the last known set');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.reload(), RELOAD_RETRY_MS).unref();
    }
  }

  private onMessage(channel: string, raw: string): void {
    if (channel !== this.channel) return;
    try {
      const message = JSON.parse(raw) as AccountAccessMessage;
      if (typeof message.userId === 'string' && typeof message.disabled === 'boolean') this.disabled.apply(message);
    } catch (error) {
      this.logger.warn({ err: error }, 'ignored a malformed account change');
    }
  }
}
