import { InjectQueue } from '@nestjs/bull';
import { Logger, Module, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { BudgetModule } from '../../budget/budget.module';
import { MetricsModule } from '../../metrics/metrics.module';
import { AiQueueModule } from '../../queue/ai-queue.module';
import { MetricsService } from '../../metrics/metrics.service';
import { ConversationsModule } from '../conversations/conversations.module';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { ModelsModule } from '../models/models.module';
import { ModerationModule } from '../moderation/moderation.module';
import { PromptsModule } from '../prompts/prompts.module';
import { AiJobsService } from './ai-jobs.service';
import { AI_JOBS_QUEUE } from './ai-jobs.constants';

// The `ai-tasks` queue and its producer, in every role: the api role enqueues, the worker role
// (AiJobsWorkerModule) processes, both report the queue's depth.
@Module({
  imports: [AiQueueModule, MetricsModule, BudgetModule, ConversationsModule, ModelsModule, ModerationModule, PromptsModule, KnowledgeModule],
  providers: [AiJobsService],
  exports: [AiJobsService, AiQueueModule],
})
export class AiJobsModule implements OnModuleInit {
  private readonly logger = new Logger('AiJobsQueue');

  constructor(
    @InjectQueue(AI_JOBS_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    // Bull reports Redis trouble as 'error' events; they must not go unhandled. Bull reconnects itself.
    this.queue.on('error', (error) => this.logger.warn({ err: error }, 'ai job queue error'));
    // Queue depth by state at scrape time (ai_queue_jobs): it scales the workers.
    this.metrics.registerQueueDepth(AI_JOBS_QUEUE, async () => ({ ...(await this.queue.getJobCounts()) }));
  }
}
