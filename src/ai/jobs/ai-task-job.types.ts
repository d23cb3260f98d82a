import type { JobId } from 'bull';
import { GENERATE_COMPLETION_JOB, GENERATE_EMBEDDINGS_JOB } from '../ai.constants';
import type { TurnRequest } from '../chat/chat-turn.types';
import type { ChatRequestDto } from '../dto/chat-request.dto';
import type { ChatResponseDto } from '../dto/chat-response.dto';
import type { EmbeddingRequestDto, EmbeddingResponseDto } from '../dto/embedding.dto';

// What a job carries through Redis: the owner plus the body of its REST twin, flat (as the guide
// shows it). The processor validates the body again with the same DTO class before using it.
export type CompletionJobData = { userId: string } & Pick<ChatRequestDto, 'message' | 'conversationId' | 'model' | 'maxTokens' | 'temperature'>;
export type EmbeddingsJobData = { userId: string } & Pick<EmbeddingRequestDto, 'text' | 'model'>;

// Job name → data and result. A result has the shape of the twin's REST response (dates become
// ISO strings once stored, exactly as they do in JSON responses).
export interface AiTaskJobs {
  [GENERATE_COMPLETION_JOB]: { data: CompletionJobData; result: ChatResponseDto };
  [GENERATE_EMBEDDINGS_JOB]: { data: EmbeddingsJobData; result: EmbeddingResponseDto };
}

export type AiTaskJobName = keyof AiTaskJobs;
export type AiTaskJobData = AiTaskJobs[AiTaskJobName]['data'];
export type AiTaskJobResult = AiTaskJobs[AiTaskJobName]['result'];

// How an attempt asks for its turn or embedding: the key ties every retry of one job to the rows
// it stores, so a retry never stores a turn or counts tokens twice. Job ids are random UUIDs (see
// AiJobsService), never Bull's counter: that restarts from 1 with a new REDIS_PREFIX or an emptied
// Redis and would then match another job's stored rows.
export const turnRequestOf = (jobId: JobId): TurnRequest => ({
  transport: 'job',
  requestId: `job:${jobId}`,
  idempotencyKey: `job:${jobId}`,
});
