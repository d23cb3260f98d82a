import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfigService } from './app-config.service';
import { Env } from './env.schema';

// The configuration is validated before the app is built (see load-env.ts) and handed in whole,
// so several app instances with different settings can live in one process (tests do this)
// and nothing here reads or writes process.env.
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          validatePredefined: false,
          skipProcessEnv: true,
          load: [() => env],
        }),
      ],
      providers: [AppConfigService],
      exports: [AppConfigService],
    };
  }
}
