// The queue and its job names are part of the public interface (the dashboard, other producers).
export { AI_JOBS_QUEUE } from '../../queue/queue.constants';
export const GENERATE_COMPLETION_JOB = 'generate-completion';
export const GENERATE_EMBEDDINGS_JOB = 'generate-embeddings';
export const INGEST_DOCUMENT_JOB = 'ingest-document';

// Options every AI job gets (AiJobsService applies them); the back-off base delay is AI_JOB_BACKOFF_MS.
export const AI_JOB_ATTEMPTS = 3;

// Finished jobs stay readable (status polling, the dashboard) for a bounded time and number;
// Bull trims the older ones as new jobs finish. Ages are in seconds.
export const AI_JOB_KEEP_COMPLETED = { age: 24 * 3600, count: 1_000 };
export const AI_JOB_KEEP_FAILED = { age: 7 * 24 * 3600, count: 5_000 };
