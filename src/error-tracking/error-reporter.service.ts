import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type * as SentrySdk from '@sentry/nestjs';
import { AppConfigService } from '../config/app-config.service';

export interface ErrorContext {
  requestId?: string;
  userId?: string;
  jobId?: string;
  transport?: string;
}

// Sends unexpected errors and failed jobs to Sentry when SENTRY_DSN is set; does nothing otherwise.
// Only ids travel with an event: no request bodies, headers, message content or keys.
@Injectable()
export class ErrorReporter implements OnApplicationShutdown {
  // Loaded only with a DSN: the SDK and its OpenTelemetry tree cost ~8 MB of memory at rest.
  private readonly sentry?: typeof SentrySdk;

  constructor(config: AppConfigService) {
    const dsn = config.get('SENTRY_DSN');
    if (!dsn) return;
    const Sentry = require('@sentry/nestjs') as typeof SentrySdk;
    this.sentry = Sentry;
    if (!Sentry.isInitialized()) {
      Sentry.init({
        dsn,
        environment: config.get('NODE_ENV'),
        sendDefaultPii: false,
        // No automatic integrations: they would attach breadcrumbs (console lines, HTTP calls with
        // their URLs and payloads). Events carry what report() puts in them and nothing else.
        defaultIntegrations: false,
        beforeSend: scrubEvent,
      });
    }
  }

  report(error: unknown, context: ErrorContext = {}): void {
    const Sentry = this.sentry;
    if (!Sentry) return;
    Sentry.withScope((scope) => {
      if (context.userId) scope.setUser({ id: context.userId });
      for (const key of ['requestId', 'jobId', 'transport'] as const) {
        if (context[key]) scope.setTag(key, context[key]);
      }
      Sentry.captureException(error);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sentry?.flush(2_000);
  }
}

function scrubEvent<T extends { request?: unknown; extra?: unknown; breadcrumbs?: unknown }>(event: T): T {
  delete event.request;
  delete event.extra;
  delete event.breadcrumbs;
  return event;
}
