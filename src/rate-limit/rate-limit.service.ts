import { Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import { AppError } from '../common/errors/app-error';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { RateLimitBucket } from './rate-limit.constants';

export interface RateLimitDecision {
  isAllowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds: number;
}

// One counter per (bucket, tracker) in Redis, incremented atomically by the storage's Lua script,
// so every instance shares it and concurrent calls cannot slip past the limit.
@Injectable()
export class RateLimitService {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  async consume(bucket: RateLimitBucket, tracker: string): Promise<RateLimitDecision> {
    const { limit, ttl } = this.limitsOf(bucket);
    const key = `${this.config.get('REDIS_PREFIX')}:rate:${bucket}:${tracker}`;
    const record = await this.storage.increment(key, ttl, limit, ttl, bucket);
    if (record.isBlocked) this.metrics.countRateLimitRejection(bucket);
    return {
      isAllowed: !record.isBlocked,
      limit,
      remaining: Math.max(0, limit - record.totalHits),
      resetSeconds: record.timeToExpire,
      retryAfterSeconds: Math.max(1, record.timeToBlockExpire),
    };
  }

  // For callers outside HTTP (the socket gateway): throws the same 429 the REST guard gives.
  async assertAllowed(bucket: RateLimitBucket, tracker: string): Promise<void> {
    const decision = await this.consume(bucket, tracker);
    if (!decision.isAllowed) throw rateLimitedError(decision.retryAfterSeconds);
  }

  limitsOf(bucket: RateLimitBucket): { limit: number; ttl: number } {
    return bucket === 'ai'
      ? { limit: this.config.get('AI_RATE_LIMIT'), ttl: this.config.get('AI_RATE_TTL_MS') }
      : { limit: this.config.get('AUTH_RATE_LIMIT'), ttl: this.config.get('AUTH_RATE_TTL_MS') };
  }
}

export const rateLimitedError = (retryAfterSeconds: number) => new AppError('RATE_LIMITED', 'Too many requests', { retryAfterSeconds });
