import fastifyCors from '@fastify/cors';
import middie from '@fastify/middie';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { useContainer } from 'class-validator';
import helmet from 'helmet';
import { buildModelRegistry, registrySettingsOf } from './ai/models/model-registry.factory';
import { AppModule } from './app.module';
import { corsOrigins } from './common/cors';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { MaxFromConfigConstraint } from './common/validation/config-limit.constraint';
import { createValidationPipe } from './common/validation/validation-pipe';
import { AppConfigService } from './config/app-config.service';
import { Env } from './config/env.schema';
import { serveDashboard } from './dashboard/dashboard-static';
import { ErrorReporter } from './error-tracking/error-reporter.service';
import { AppLogger } from './logging/app-logger';
import { ROOT_LOGGER } from './logging/logging.module';
import { useRequestLog } from './logging/request-log';
import { useConditionalGet } from './http/conditional-get';
import { FASTIFY_OPTIONS } from './http/fastify-options';
import { useJsonBodyParser } from './http/json-body.parser';
import { ServiceFastifyAdapter } from './http/service-fastify.adapter';
import { refuseWhenClosing } from './lifecycle/refuse-when-closing.hook';
import { ShutdownState } from './lifecycle/shutdown-state.service';
import { httpMetricsHook } from './metrics/http-metrics.hook';
import { MetricsService } from './metrics/metrics.service';
import { QUEUE_DASHBOARD_ROUTE } from './ai/jobs/dashboard/queue-dashboard.constants';
import { RedisIoAdapter } from './redis/redis-io.adapter';

const API_PREFIX = 'api/v1';

// Builds the application exactly as production runs it; main.ts and the e2e tests both use this.
export async function createApp(env: Env): Promise<NestFastifyApplication> {
  // Checked before Nest starts, so that a models file that cannot be used stops the start with one
  // line (ConfigValidationError); ModelRegistry builds the same registry again as it is created.
  buildModelRegistry(registrySettingsOf((key) => env[key]));
  // skipMiddie: middie (which runs Nest middleware: the queue dashboard's) is registered in
  // configureApp, after the hooks that must run before it.
  const adapter = new ServiceFastifyAdapter({ ...FASTIFY_OPTIONS, skipMiddie: true });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  await configureApp(app);
  return app;
}

async function configureApp(app: NestFastifyApplication): Promise<void> {
  const config = app.get(AppConfigService);
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  if (config.get('JWT_SECRET_GENERATED')) {
    logger.warn('JWT_SECRET is not set: using a random per-process secret; tokens die with the process', 'Config');
  }
  const fastify = app.getHttpAdapter().getInstance();
  // The order of these hooks is the order they run in for every request: metrics see every
  // response; a refusal during shutdown comes before anything else; the security headers and
  // CORS (which answers preflights) come before the routes.
  fastify.addHook('onResponse', httpMetricsHook(app.get(MetricsService)));
  fastify.addHook('onRequest', refuseWhenClosing(app.get(ShutdownState)));
  // helmet's default headers, its middleware built once (@fastify/helmet builds it again on every
  // request: ~0.1 ms of CPU each, parsing the CSP directives).
  const securityHeaders = helmet();
  fastify.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined)));
  await app.register(fastifyCors, {
    origin: corsOrigins(config.get('CORS_ORIGIN')),
    credentials: true,
    methods: 'GET,HEAD,PUT,PATCH,POST,DELETE',
    // Every OPTIONS request is a preflight (204), with or without Access-Control-Request-Method.
    strictPreflight: false,
  });
  useRequestLog(fastify, app.get(ROOT_LOGGER));
  await app.register(middie);
  // request.user lives on the Node request, where passport puts it.
  fastify.decorateRequest('user', {
    getter(this: { raw: { user?: unknown } }) {
      return this.raw.user;
    },
    setter(this: { raw: { user?: unknown } }, user: unknown) {
      this.raw.user = user;
    },
  });
  useJsonBodyParser(fastify, config.get('BODY_LIMIT'));
  useConditionalGet(fastify);
  // The Bull dashboard (when configured) lives at exactly /admin/queues, like /metrics outside the API prefix.
  app.setGlobalPrefix(API_PREFIX, { exclude: ['metrics', QUEUE_DASHBOARD_ROUTE] });
  // Lets validators read configured limits; process-wide, so the latest app's settings apply.
  const limits = app.get(MaxFromConfigConstraint);
  useContainer({ get: (cls: unknown) => (cls === MaxFromConfigConstraint ? limits : undefined) }, { fallback: true });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter(app.get(ErrorReporter)));
  // A worker (PROCESS_ROLE=worker) has no gateway and no API to document.
  if (config.runsApi) {
    const wsAdapter = new RedisIoAdapter(app, config);
    await wsAdapter.connectToRedis();
    app.useWebSocketAdapter(wsAdapter);
    setUpSwagger(app);
    serveDashboard(app);
  }
}

// The document is built on the first request for it, not at boot: most instances never serve it,
// and an idle process should not hold it.
function setUpSwagger(app: INestApplication): void {
  const buildDocument = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('AI chat service')
        .setDescription('REST API of the AI chat backend. Streaming chat is on Socket.IO namespace `/ai` (see README).')
        .setVersion('1.0')
        .addBearerAuth()
        .build(),
    );
  SwaggerModule.setup('api/docs', app, buildDocument, { jsonDocumentUrl: 'api/docs-json' });
}
