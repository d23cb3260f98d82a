import { Inject, Injectable } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { AppError } from '../common/errors/app-error';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS_CLIENT } from '../redis/redis.constants';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {}

  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () =>
          this.indicators
            .check('database')
            .attempt(() => this.prisma.$queryRaw`SELECT 1`.then(() => undefined))
            .withTimeout(PING_TIMEOUT_MS),
        () =>
          this.indicators
            .check('redis')
            .attempt(() => this.redis.ping().then(() => undefined))
            .withTimeout(PING_TIMEOUT_MS),
      ]);
    } catch (error) {
      // Terminus throws a 503 carrying the full result; answer in the API's error shape.
      const result = (error as { getResponse?: () => HealthCheckResult }).getResponse?.();
      const down = Object.keys(result?.error ?? {});
      if (!result) throw error;
      throw new AppError('DEPENDENCY_UNAVAILABLE', `Unhealthy: ${down.join(', ')} down`);
    }
  }
}
