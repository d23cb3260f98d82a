import { Module } from '@nestjs/common';
import { MetricsModule } from '../../metrics/metrics.module';
import { LlmModule } from '../llm/llm.module';
import { ModerationService } from './moderation.service';

@Module({
  imports: [LlmModule, MetricsModule],
  providers: [ModerationService],
  exports: [ModerationService],
})
export class ModerationModule {}
