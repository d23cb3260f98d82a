import type { JobId } from 'bull';
import type { ChatRequestDto } from '../chat/dto/chat-request.dto';
import type { ChatResponseDto } from '../chat/dto/chat-response.dto';
import type { EmbeddingRequestDto, EmbeddingResponseDto } from '../embeddings/dto/embedding.dto';
import type { DocumentResponseDto } from '../knowledge/dto/document.dto';
import type { ModerationVerdict } from '../moderation/moderation.service';
import { GENERATE_TITLE_JOB, type TitleJobData, type TitleJobResult } from '../titles/titles.constants';
import { GENERATE_COMPLETION_JOB, GENERATE_EMBEDDINGS_JOB, INGEST_DOCUMENT_JOB } from './ai-jobs.constants';

// What a job carries through Redis: the owner plus the body of its REST twin, flat. The processor
// validates the body again with the same DTO class before using it.
// A completion's input was moderated when it was queued: `moderation` is that verdict (absent in
// jobs queued before moderation existed; the turn then checks the input itself).
// A template is rendered at enqueue: the job carries its text as `message`.
export type CompletionJobData = { userId: string; message: string; moderation?: ModerationVerdict } & Pick<
  ChatRequestDto,
  'conversationId' | 'parentMessageId' | 'model' | 'maxTokens' | 'temperature' | 'knowledge'
>;
export type EmbeddingsJobData = { userId: string } & Pick<EmbeddingRequestDto, 'text' | 'model'>;
// A document's bytes wait in PostgreSQL (up to DOCUMENT_MAX_BYTES): the job carries only its id.
export type IngestDocumentJobData = { userId: string; documentId: string };

// Job name → data and result. A result has the shape of the twin's REST response (dates become
// ISO strings once stored, exactly as they do in JSON responses).
export interface AiJobs {
  [GENERATE_COMPLETION_JOB]: { data: CompletionJobData; result: ChatResponseDto };
  [GENERATE_EMBEDDINGS_JOB]: { data: EmbeddingsJobData; result: EmbeddingResponseDto };
  // The GET /ai/documents/:id shape once ready; null when the document was deleted meanwhile.
  [INGEST_DOCUMENT_JOB]: { data: IngestDocumentJobData; result: DocumentResponseDto | null };
  // Queued by the chat turn itself (AI_AUTO_TITLE), never through the API.
  [GENERATE_TITLE_JOB]: { data: TitleJobData; result: TitleJobResult };
}

export type AiJobName = keyof AiJobs;
export type AiJobData = AiJobs[AiJobName]['data'];
export type AiJobResult = AiJobs[AiJobName]['result'];

// How an attempt asks for its turn or embedding: the key ties every retry of one job to the rows
// it stores, so a retry never stores a turn or counts tokens twice. Job ids are random UUIDs (see
// AiJobsService), never Bull's counter: that restarts from 1 with a new REDIS_PREFIX or an emptied
// Redis and would then match another job's stored rows.
export const attemptOf = (jobId: JobId) => ({ transport: 'job' as const, requestId: `job:${jobId}`, idempotencyKey: `job:${jobId}` });
