import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { AppError, NotFoundError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import { BudgetService } from '../../budget/budget.service';
import { ConversationService } from '../conversations/conversation.service';
import { ModelRegistry } from '../models/model-registry.service';
import { ModerationService } from '../moderation/moderation.service';
import { PromptsService } from '../prompts/prompts.service';
import { JobQueuedResponseDto, JobStatusResponseDto } from './dto/ai-job.dto';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { EmbeddingRequestDto } from '../embeddings/dto/embedding.dto';
import { DocumentQueuedResponseDto } from '../knowledge/dto/document.dto';
import { DocumentInput, DocumentsService } from '../knowledge/documents.service';
import { VECTOR_UNAVAILABLE_MESSAGE, VectorSupport } from '../../vector/vector-support.service';
import { mapJobStatus } from './ai-job.mapper';
import {
  AI_JOB_ATTEMPTS,
  AI_JOB_KEEP_COMPLETED,
  AI_JOB_KEEP_FAILED,
  AI_JOBS_QUEUE,
  GENERATE_COMPLETION_JOB,
  GENERATE_EMBEDDINGS_JOB,
  INGEST_DOCUMENT_JOB,
} from './ai-jobs.constants';
import { AiJobData, AiJobName, AiJobs } from './ai-job.types';

// The producer: the only caller of queue.add. It refuses what would fail anyway (used-up budget,
// someone else's conversation) before a job exists; the processor checks both again when it runs.
@Injectable()
export class AiJobsService {
  constructor(
    @InjectQueue(AI_JOBS_QUEUE) private readonly queue: Queue<AiJobData>,
    private readonly config: AppConfigService,
    private readonly budget: BudgetService,
    private readonly conversations: ConversationService,
    private readonly models: ModelRegistry,
    private readonly moderation: ModerationService,
    private readonly prompts: PromptsService,
    private readonly documents: DocumentsService,
    private readonly vector: VectorSupport,
  ) {}

  // A template is rendered and the message moderated here, beside the other checks: a bad template
  // call or a blocked message never becomes a job, and the job carries the rendered text.
  async queueCompletion(userId: string, dto: ChatRequestDto): Promise<JobQueuedResponseDto> {
    this.models.assertAvailable(dto.model, 'chat');
    // A turn that needs vector search is refused now rather than failed later in the worker.
    if (dto.knowledge && !this.vector.isAvailable) throw new AppError('VECTOR_SEARCH_UNAVAILABLE', VECTOR_UNAVAILABLE_MESSAGE);
    const checkedMessage = this.prompts
      .messageOf(userId, dto)
      .then(async (message) => ({ message, moderation: await this.moderation.checkInput(message, { transport: 'job', userId }) }));
    const [{ message, moderation }] = await Promise.all([
      checkedMessage,
      this.budget.assertWithinBudget(userId),
      dto.conversationId ? this.conversations.assertOwnedBy(dto.conversationId, userId, dto.parentMessageId ?? undefined) : undefined,
    ]);
    const { conversationId, parentMessageId, model, maxTokens, temperature, knowledge } = dto;
    return this.enqueue(GENERATE_COMPLETION_JOB, { message, conversationId, parentMessageId, model, maxTokens, temperature, knowledge, userId, moderation });
  }

  async queueEmbeddings(userId: string, dto: EmbeddingRequestDto): Promise<JobQueuedResponseDto> {
    this.models.assertAvailable(dto.model, 'embeddings');
    await this.budget.assertWithinBudget(userId);
    return this.enqueue(GENERATE_EMBEDDINGS_JOB, { ...dto, userId });
  }

  // The document is stored first (with its bytes) and the job carries its id; a job that cannot be
  // queued takes its document away again, so no document waits for a job that never comes.
  async queueDocument(userId: string, input: DocumentInput): Promise<DocumentQueuedResponseDto> {
    this.documents.assertAvailable();
    this.assertQueueReachable();
    await this.budget.assertWithinBudget(userId);
    const document = await this.documents.createDocument(userId, input);
    try {
      const { jobId } = await this.enqueue(INGEST_DOCUMENT_JOB, { userId, documentId: document.id });
      return { id: document.id, title: document.title, status: 'processing', jobId };
    } catch (error) {
      await this.documents.discardDocument(document.id);
      throw error;
    }
  }

  async getJobStatus(jobId: string, userId: string): Promise<JobStatusResponseDto> {
    this.assertQueueReachable();
    const job = await this.queue.getJob(jobId);
    // Another user's job reads as missing, like every other resource of theirs.
    if (!job || job.data.userId !== userId) throw new NotFoundError('Job');
    const state = await job.getState();
    // The job may have finished between the two reads: read it again so that a finished state
    // always comes with its result or failedReason.
    const isFinished = state === 'completed' || state === 'failed';
    const current = isFinished ? ((await this.queue.getJob(jobId)) ?? job) : job;
    return mapJobStatus(current, state);
  }

  private async enqueue<N extends AiJobName>(name: N, data: AiJobs[N]['data']): Promise<JobQueuedResponseDto> {
    this.assertQueueReachable();
    const job = await this.queue.add(name, data, {
      // Random ids: not guessable, and unique across Redis resets (they key the idempotent writes).
      jobId: randomUUID(),
      attempts: AI_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.get('AI_JOB_BACKOFF_MS') },
      removeOnComplete: AI_JOB_KEEP_COMPLETED,
      removeOnFail: AI_JOB_KEEP_FAILED,
    });
    return { jobId: String(job.id), status: 'queued' };
  }

  // Bull's connections queue commands while Redis is away: a status read would hang until Redis is
  // back, and an add would be sent later, after the caller got an error. Refuse at once instead.
  private assertQueueReachable(): void {
    if (this.queue.client.status !== 'ready') throw new AppError('DEPENDENCY_UNAVAILABLE', 'Service temporarily unavailable');
  }
}
