import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfigService } from '../config/app-config.service';
import { buildLogDestination, buildPinoHttpOptions } from './pino-options';
import { requestIdHeader } from './request-id';

// Every route the request logger runs on: the API and the paths outside the global prefix.
const LOGGED_ROUTES = { path: '*splat', method: RequestMethod.ALL };

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: async (config: AppConfigService) => ({
        pinoHttp: [buildPinoHttpOptions(config), await buildLogDestination(config)],
        // A wildcard Nest recognises: it adds the paths outside the global prefix (/metrics,
        // /admin/queues) once by itself. nestjs-pino's default route would add them a second time.
        forRoutes: [LOGGED_ROUTES],
      }),
    }),
  ],
})
export class LoggingModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestIdHeader).forRoutes(LOGGED_ROUTES);
  }
}
