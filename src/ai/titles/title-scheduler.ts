import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { AppConfigService } from '../../config/app-config.service';
import { AI_JOBS_QUEUE } from '../../queue/queue.constants';
import { GENERATE_TITLE_JOB, TitleJobData } from './titles.constants';

const TITLE_JOB_ATTEMPTS = 3;

// Queues the title job after the first answer of a conversation a turn created (AI_AUTO_TITLE).
// Best effort and off the turn's path: the answer never waits for Redis, and a conversation whose
// job could not be queued keeps its first-message title.
@Injectable()
export class TitleScheduler {
  private readonly logger = new Logger(TitleScheduler.name);

  constructor(
    @InjectQueue(AI_JOBS_QUEUE) private readonly queue: Queue<TitleJobData>,
    private readonly config: AppConfigService,
  ) {}

  schedule(data: TitleJobData): void {
    if (!this.config.get('AI_AUTO_TITLE')) return;
    this.queue
      .add(GENERATE_TITLE_JOB, data, {
        jobId: randomUUID(),
        attempts: TITLE_JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.config.get('AI_JOB_BACKOFF_MS') },
        removeOnComplete: true,
        removeOnFail: 100,
      })
      .catch((error: unknown) => this.logger.warn({ err: error, conversationId: data.conversationId }, 'could not queue the title job'));
  }
}
