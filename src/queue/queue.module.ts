import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { redisOptionsFromUrl } from '../redis/redis-url';

// Connection and key prefix for every Bull queue; feature modules register their queues by name.
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) => ({
        redis: redisOptionsFromUrl(config.get('REDIS_URL')),
        // Deployments (and test runs) sharing one Redis keep their queues apart.
        prefix: `${config.get('REDIS_PREFIX')}:bull`,
      }),
    }),
  ],
})
export class QueueModule {}
