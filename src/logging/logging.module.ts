import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfigService } from '../config/app-config.service';
import { buildLogDestination, buildPinoHttpOptions } from './pino-options';

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: async (config: AppConfigService) => ({
        pinoHttp: [buildPinoHttpOptions(config), await buildLogDestination(config)],
        // A wildcard Nest recognises: it adds the paths outside the global prefix (/metrics,
        // /admin/queues) once by itself. nestjs-pino's default route would add them a second time.
        forRoutes: [{ path: '*splat', method: RequestMethod.ALL }],
      }),
    }),
  ],
})
export class LoggingModule {}
