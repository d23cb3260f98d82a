// Options every AI job gets (AiJobsService applies them); the back-off base delay is AI_JOB_BACKOFF_MS.
export const AI_JOB_ATTEMPTS = 3;

// Finished jobs stay readable (status polling, the dashboard) for a bounded time and number;
// Bull trims the older ones as new jobs finish. Ages are in seconds.
export const AI_JOB_KEEP_COMPLETED = { age: 24 * 3600, count: 1_000 };
export const AI_JOB_KEEP_FAILED = { age: 7 * 24 * 3600, count: 5_000 };
