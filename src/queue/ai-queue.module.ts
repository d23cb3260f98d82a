import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AI_JOBS_QUEUE } from './queue.constants';

// The one `ai-tasks` queue of the process, for every module that adds or processes its jobs: a
// module of its own so that they all share one Queue instance (pausing or closing it applies to all).
@Module({
  imports: [BullModule.registerQueue({ name: AI_JOBS_QUEUE })],
  exports: [BullModule],
})
export class AiQueueModule {}
