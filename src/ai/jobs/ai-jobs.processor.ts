import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppError } from '../../common/errors/app-error';
import { validateDto } from '../../common/validation/validate-dto';
import { ErrorReporter } from '../../error-tracking/error-reporter.service';
import { AppConfigService } from '../../config/app-config.service';
import { UsersService } from '../../users/users.service';
import { ChatService } from '../chat/chat.service';
import { EmbeddingService } from '../embeddings/embedding.service';
import { ChatRequestDto } from '../chat/dto/chat-request.dto';
import { ChatResponseDto } from '../chat/dto/chat-response.dto';
import { EmbeddingRequestDto, EmbeddingResponseDto } from '../embeddings/dto/embedding.dto';
import { DocumentIngestionService } from '../knowledge/document-ingestion.service';
import { DocumentResponseDto } from '../knowledge/dto/document.dto';
import { AiJobData, AiJobName, AiJobResult, AiJobs, attemptOf, CompletionJobData, EmbeddingsJobData, IngestDocumentJobData } from './ai-job.types';
import { AI_JOBS_QUEUE, GENERATE_COMPLETION_JOB, GENERATE_EMBEDDINGS_JOB, INGEST_DOCUMENT_JOB } from './ai-jobs.constants';
import { classifyJobFailure } from './job-failure';
import { ConversationTitlesService } from '../titles/conversation-titles.service';
import { GENERATE_TITLE_JOB, TitleJobData, TitleJobResult } from '../titles/titles.constants';

// Every job name goes through this one Bull handler. Not `@Process()` methods: decorators cannot
// read AI_QUEUE_CONCURRENCY, and Bull adds up the concurrency of named handlers, while the setting
// means "AI calls one worker runs at once". Provided only in the worker and `all` roles.
const ANY_JOB = '*';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Handlers = { [N in AiJobName]: (job: Job<AiJobs[N]['data']>) => Promise<AiJobs[N]['result']> };

@Injectable()
export class AiJobsProcessor implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AiJobsProcessor.name);
  private readonly handlers: Handlers = {
    [GENERATE_COMPLETION_JOB]: (job) => this.generateCompletion(job),
    [GENERATE_EMBEDDINGS_JOB]: (job) => this.generateEmbeddings(job),
    [INGEST_DOCUMENT_JOB]: (job) => this.ingestDocument(job),
    [GENERATE_TITLE_JOB]: (job) => this.generateTitle(job),
  };

  constructor(
    @InjectQueue(AI_JOBS_QUEUE) private readonly queue: Queue<AiJobData>,
    private readonly config: AppConfigService,
    private readonly chat: ChatService,
    private readonly embeddings: EmbeddingService,
    private readonly ingestion: DocumentIngestionService,
    private readonly titles: ConversationTitlesService,
    private readonly errors: ErrorReporter,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    // Settles only when the queue closes; failures to start are reported, not thrown at boot.
    this.queue
      .process(ANY_JOB, this.config.get('AI_QUEUE_CONCURRENCY'), (job: Job<AiJobData>) => this.run(job))
      .catch((error: unknown) => this.logger.error({ err: error }, 'ai job processing stopped'));
  }

  // Stop taking jobs and let the running ones finish while PostgreSQL is still connected (Prisma
  // disconnects in onApplicationShutdown, where @nestjs/bull would otherwise close the queue).
  // Past SHUTDOWN_GRACE_MS the close stops waiting: an unfinished job stays active in Redis, Bull
  // hands it to another worker as stalled, and its idempotency key keeps the retry from counting twice.
  async beforeApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.get('SHUTDOWN_GRACE_MS'))));
    await Promise.race([this.queue.close(), graceOver.then(() => this.queue.close(true))]);
    clearTimeout(timer);
  }

  private async generateCompletion(job: Job<CompletionJobData>): Promise<ChatResponseDto> {
    const { userId, moderation, ...body } = job.data;
    const dto = await validateDto(ChatRequestDto, body);
    await job.progress(10);
    const result = await this.chat.sendMessage(userId, dto, { ...attemptOf(job.id), inputModeration: moderation });
    await job.progress(100);
    return result;
  }

  private async generateEmbeddings(job: Job<EmbeddingsJobData>): Promise<EmbeddingResponseDto> {
    const { userId, ...body } = job.data;
    const dto = await validateDto(EmbeddingRequestDto, body);
    await job.progress(10);
    const result = await this.embeddings.createEmbedding(userId, dto, attemptOf(job.id));
    await job.progress(100);
    return result;
  }

  private async ingestDocument(job: Job<IngestDocumentJobData>): Promise<DocumentResponseDto | null> {
    const { userId, documentId } = job.data;
    if (typeof documentId !== 'string' || !UUID.test(documentId)) throw new AppError('VALIDATION_FAILED', 'Job data has no documentId');
    const result = await this.ingestion.ingest({
      userId,
      documentId,
      attemptKey: attemptOf(job.id).idempotencyKey,
      isLastAttempt: isLastAttempt(job),
      onProgress: (percent) => job.progress(percent),
      // Checked inside the ingestion, so that the document of a disabled owner fails with the reason.
      assertOwnerActive: () => this.users.assertActive(userId),
    });
    await job.progress(100);
    return result;
  }

  private async generateTitle(job: Job<TitleJobData>): Promise<TitleJobResult> {
    const { userId, conversationId, expectedTitle } = job.data;
    if (typeof conversationId !== 'string' || !UUID.test(conversationId)) throw new AppError('VALIDATION_FAILED', 'Job data has no conversationId');
    if (expectedTitle !== null && typeof expectedTitle !== 'string') throw new AppError('VALIDATION_FAILED', 'Job data has no expectedTitle');
    return this.titles.generate({ userId, conversationId, expectedTitle }, attemptOf(job.id));
  }

  // A permanent failure is discarded (no further attempts); anything else is thrown for Bull to
  // retry with back-off. Either way the job's failedReason gets a client-safe message.
  private async run(job: Job<AiJobData>): Promise<AiJobResult> {
    try {
      return await this.dispatch(job);
    } catch (error) {
      const { reason, isPermanent } = classifyJobFailure(error);
      if (isPermanent) await job.discard();
      const context = { jobId: job.id, job: job.name, attempt: job.attemptsMade + 1, isPermanent };
      if (error instanceof AppError) this.logger.warn({ ...context, code: error.code, details: error.details }, `job failed: ${reason}`);
      else this.logger.error({ ...context, err: error }, 'job failed');
      // A job that ends failed (no attempt left) goes to error tracking; retried attempts do not.
      if (isPermanent || isLastAttempt(job)) {
        this.errors.report(error, { jobId: String(job.id), userId: job.data?.userId, transport: 'job' });
      }
      // Bull stores the message as the job's failedReason, which its owner reads.
      throw new Error(reason, { cause: error });
    }
  }

  private async dispatch(job: Job<AiJobData>): Promise<AiJobResult> {
    if (!Object.hasOwn(this.handlers, job.name)) throw new AppError('VALIDATION_FAILED', `Unknown job ${job.name}`);
    if (typeof job.data?.userId !== 'string') throw new AppError('VALIDATION_FAILED', 'Job data has no userId');
    // A job queued before its owner was disabled fails here ("Account disabled"), without retries
    // (a document ingestion checks inside, to mark its document failed too).
    if (job.name !== INGEST_DOCUMENT_JOB) await this.users.assertActive(job.data.userId);
    const handler = this.handlers[job.name as AiJobName] as (job: Job<AiJobData>) => Promise<AiJobResult>;
    return handler(job);
  }
}

// No retry follows a failure of this attempt.
const isLastAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
