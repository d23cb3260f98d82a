import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfigService } from '../config/app-config.service';
import { PrismaClient } from '../generated/prisma/client';

// Owns the client's lifecycle only; queries live in the repositories.
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(config: AppConfigService) {
    super({
      adapter: new PrismaPg({
        connectionString: config.get('DATABASE_URL'),
        // Fail fast when PostgreSQL is unreachable instead of queueing requests behind a dead pool.
        connectionTimeoutMillis: 3_000,
        // A pooled connection cut off without a reset (a network partition) would otherwise leave its
        // query waiting for minutes; every query of this service takes milliseconds. Matches Prisma's
        // default 5 s interactive-transaction timeout. The timed-out connection is discarded.
        query_timeout: 5_000,
        max: 20,
      }),
    });
  }

  // Last of all, after running streams and jobs have stored what they hold.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
