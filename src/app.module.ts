import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessModule } from './access/access.module';
import { AdminModule } from './admin/admin.module';
import { AiApiModule } from './ai/api/ai-api.module';
import type { QueueDashboardModule as BullDashboardModule } from './ai/jobs/dashboard/queue-dashboard.module';
import { AiJobsWorkerModule } from './ai/jobs/ai-jobs-worker.module';
import { AiStreamModule } from './ai/stream/ai-stream.module';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { ValidationModule } from './common/validation/validation.module';
import { AppConfigModule } from './config/config.module';
import { Env, runsApiRole, runsWorkerRole } from './config/env.schema';
import { ErrorTrackingModule } from './error-tracking/error-tracking.module';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { QueueModule } from './queue/queue.module';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitModule } from './rate-limit/rate-limit.module';

@Module({})
export class AppModule {
  // PROCESS_ROLE picks the modules: a worker processes jobs and serves health and metrics only, so it
  // has no auth, AI routes, socket gateway or dashboard; an api instance enqueues but never processes.
  static forRoot(env: Env): DynamicModule {
    const runsApi = runsApiRole(env.PROCESS_ROLE);
    const hasDashboard = runsApi && Boolean(env.BULL_BOARD_USER && env.BULL_BOARD_PASSWORD);
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        LifecycleModule,
        ErrorTrackingModule,
        LoggingModule,
        MetricsModule,
        ValidationModule,
        QueueModule,
        HealthModule,
        ...(runsWorkerRole(env.PROCESS_ROLE) ? [AiJobsWorkerModule] : []),
        ...(runsApi ? [RateLimitModule, AccessModule, AuthModule, AiApiModule, AiStreamModule, AdminModule] : []),
        ...(hasDashboard ? [loadQueueDashboardModule()] : []),
      ],
      providers: runsApi
        ? [
            // Order matters: authenticate first, so per-user rate limits see the user.
            { provide: APP_GUARD, useClass: JwtAuthGuard },
            { provide: APP_GUARD, useExisting: RateLimitGuard },
          ]
        : [],
    };
  }
}

// Required only when the dashboard is on: the Bull Board packages cost memory every instance would pay.
function loadQueueDashboardModule(): typeof BullDashboardModule {
  return (require('./ai/jobs/dashboard/queue-dashboard.module') as { QueueDashboardModule: typeof BullDashboardModule }).QueueDashboardModule;
}
