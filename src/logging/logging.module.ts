import { Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfigService } from '../config/app-config.service';
import { AppLogger } from './app-logger';
import { buildRootLogger } from './pino-options';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

@Global()
@Module({
  providers: [
    { provide: ROOT_LOGGER, inject: [AppConfigService], useFactory: (config: AppConfigService) => buildRootLogger(config) },
    { provide: AppLogger, inject: [ROOT_LOGGER], useFactory: (root: Logger) => new AppLogger(root) },
  ],
  exports: [ROOT_LOGGER, AppLogger],
})
export class LoggingModule {}
