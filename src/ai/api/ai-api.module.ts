import { Module } from '@nestjs/common';
import { MultipartModule } from '@nestjs/platform-fastify';
import { AppConfigService } from '../../config/app-config.service';
import { ChatModule } from '../chat/chat.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { EmbeddingsModule } from '../embeddings/embeddings.module';
import { ModelsModule } from '../models/models.module';
import { AiJobsModule } from '../jobs/ai-jobs.module';
import { documentUploadOptions } from '../knowledge/document-upload';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { PromptsModule } from '../prompts/prompts.module';
import { UsageModule } from '../usage/usage.module';
import { AiStreamModule } from '../stream/ai-stream.module';
import { AiJobsController } from './ai-jobs.controller';
import { ChatController } from './chat.controller';
import { ConversationsController } from './conversations.controller';
import { DocumentsController } from './documents.controller';
import { EmbeddingsController } from './embeddings.controller';
import { ModelsController } from './models.controller';
import { PromptsController } from './prompts.controller';
import { SearchController } from './search.controller';
import { StreamsController } from './streams.controller';
import { UsageController } from './usage.controller';

// The REST routes under /api/v1/ai, served by the api role only. The feature modules they call hold
// no routes of their own, so the worker can import them without serving anything.
@Module({
  imports: [
    ChatModule,
    EmbeddingsModule,
    ConversationsModule,
    UsageModule,
    AiJobsModule,
    ModelsModule,
    PromptsModule,
    KnowledgeModule,
    AiStreamModule,
    // The document upload's limits depend on DOCUMENT_MAX_BYTES, which decorators cannot read.
    MultipartModule.registerAsync({ inject: [AppConfigService], useFactory: (config: AppConfigService) => documentUploadOptions(config.get('DOCUMENT_MAX_BYTES')) }),
  ],
  controllers: [
    ChatController,
    EmbeddingsController,
    ConversationsController,
    UsageController,
    AiJobsController,
    ModelsController,
    PromptsController,
    DocumentsController,
    SearchController,
    StreamsController,
  ],
})
export class AiApiModule {}
