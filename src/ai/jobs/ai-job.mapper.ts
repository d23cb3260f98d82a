import type { Job, JobStatus } from 'bull';
import type { JobStatusResponseDto } from './dto/ai-job.dto';
import type { AiJobData } from './ai-job.types';

export function mapJobStatus(job: Job<AiJobData>, state: JobStatus | 'stuck'): JobStatusResponseDto {
  const progress: unknown = job.progress();
  return {
    id: String(job.id),
    progress: typeof progress === 'number' ? progress : 0,
    state,
    result: job.returnvalue ?? null,
    failedReason: job.failedReason ?? null,
  };
}
