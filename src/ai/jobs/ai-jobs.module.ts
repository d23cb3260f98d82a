import { BullModule, InjectQueue } from '@nestjs/bull';
import { DynamicModule, Logger, Module, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { MetricsService } from '../../metrics/metrics.service';
import { UsersModule } from '../../users/users.module';
import { AiCoreModule } from '../ai-core.module';
import { AI_TASKS_QUEUE } from '../ai.constants';
import { AiJobsController } from './ai-jobs.controller';
import { AiJobsService } from './ai-jobs.service';
import { AiTasksProcessor } from './ai-tasks.processor';

export interface AiJobsRoles {
  // Serve the job routes and enqueue.
  runsApi: boolean;
  // Process the queue.
  runsWorker: boolean;
}

@Module({})
export class AiJobsModule implements OnModuleInit {
  private readonly logger = new Logger('AiTasksQueue');

  constructor(
    @InjectQueue(AI_TASKS_QUEUE) private readonly queue: Queue,
    private readonly metrics: MetricsService,
  ) {}

  static forRoot({ runsApi, runsWorker }: AiJobsRoles): DynamicModule {
    return {
      module: AiJobsModule,
      imports: [AiCoreModule, UsersModule, BullModule.registerQueue({ name: AI_TASKS_QUEUE })],
      controllers: runsApi ? [AiJobsController] : [],
      providers: [...(runsApi ? [AiJobsService] : []), ...(runsWorker ? [AiTasksProcessor] : [])],
    };
  }

  onModuleInit(): void {
    // Bull reports Redis trouble as 'error' events; they must not go unhandled. Bull reconnects itself.
    this.queue.on('error', (error) => this.logger.warn({ err: error }, 'ai-tasks queue error'));
    // Queue depth by state at scrape time (ai_queue_jobs), in every role: it scales the workers.
    this.metrics.registerQueueDepth(AI_TASKS_QUEUE, async () => ({ ...(await this.queue.getJobCounts()) }));
  }
}
