import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { LifecycleModule } from '../../lifecycle/lifecycle.module';
import { MetricsModule } from '../../metrics/metrics.module';
import { RateLimitModule } from '../../rate-limit/rate-limit.module';
import { ChatModule } from '../chat/chat.module';
import { AiGateway } from './ai.gateway';
import { ChatStreamService } from './chat-stream.service';

// The Socket.IO namespace /ai: streaming chat turns (api role only).
@Module({
  imports: [ChatModule, AuthModule, MetricsModule, RateLimitModule, LifecycleModule],
  providers: [AiGateway, ChatStreamService],
})
export class AiStreamModule {}
