import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfigService } from '../config/app-config.service';
import { buildLogDestination, buildPinoHttpOptions } from './pino-options';

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: async (config: AppConfigService) => ({
        pinoHttp: [buildPinoHttpOptions(config), await buildLogDestination(config)],
      }),
    }),
  ],
})
export class LoggingModule {}
