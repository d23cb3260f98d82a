import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { UserEventsPublisher } from './user-events.publisher';

@Module({
  imports: [RedisModule],
  providers: [UserEventsPublisher],
  exports: [UserEventsPublisher],
})
export class RealtimeModule {}
