import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { LifecycleModule } from '../../lifecycle/lifecycle.module';
import { MetricsModule } from '../../metrics/metrics.module';
import { RateLimitModule } from '../../rate-limit/rate-limit.module';
import { RedisModule } from '../../redis/redis.module';
import { ChatModule } from '../chat/chat.module';
import { AiGateway } from './ai.gateway';
import { ChatStreamService } from './chat-stream.service';
import { StreamLogService } from './stream-log.service';

// The Socket.IO namespace /ai: streaming chat turns (api role only). ChatStreamService is exported
// for the SSE routes and for whatever must stop a user's streams.
@Module({
  imports: [ChatModule, AuthModule, MetricsModule, RateLimitModule, LifecycleModule, RedisModule],
  providers: [AiGateway, ChatStreamService, StreamLogService],
  exports: [ChatStreamService],
})
export class AiStreamModule {}
