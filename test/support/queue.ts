import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { AI_JOBS_QUEUE } from '../../src/ai/jobs/ai-jobs.constants';
import { eventually } from './eventually';
import type { TestApp } from './test-app';

export const queueOf = (t: TestApp) => t.app.get<Queue>(getQueueToken(AI_JOBS_QUEUE), { strict: false });

// Waits until no job is waiting, active or delayed, so that a test ends with its jobs done.
export async function drainQueue(t: TestApp, timeoutMs = 15_000): Promise<void> {
  const queue = queueOf(t);
  await eventually(
    async () => {
      const counts = await queue.getJobCounts();
      return counts.waiting + counts.active + counts.delayed === 0;
    },
    timeoutMs,
    50,
  );
}
