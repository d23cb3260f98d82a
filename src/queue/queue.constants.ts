// The AI work queue, shared by the producers of its jobs (src/ai/jobs, src/ai/titles) and the
// worker that processes it.
export const AI_JOBS_QUEUE = 'ai-tasks';
