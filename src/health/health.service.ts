import { Inject, Injectable } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { AppError } from '../common/errors/app-error';
import { PrismaService } from '../prisma/prisma.service';
import { REDIS_CLIENT } from '../redis/redis.constants';
import { VECTOR_UNAVAILABLE_MESSAGE, VectorSupport } from '../vector/vector-support.service';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly vector: VectorSupport,
  ) {}

  // PostgreSQL and Redis decide the status; `vector` only tells whether vector search is on (the
  // service works without it), so it never turns the answer into a 503.
  async check(): Promise<HealthCheckResult> {
    const result = await this.checkDependencies();
    const vector = this.vectorInfo();
    return { ...result, info: { ...result.info, vector }, details: { ...result.details, vector } };
  }

  private vectorInfo() {
    const { isAvailable, version, dimensions } = this.vector.state;
    return isAvailable
      ? { status: 'up' as const, available: true, version, dimensions }
      : { status: 'down' as const, available: false, message: VECTOR_UNAVAILABLE_MESSAGE };
  }

  private async checkDependencies(): Promise<HealthCheckResult> {
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
