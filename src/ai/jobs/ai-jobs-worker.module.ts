import { Module } from '@nestjs/common';
import { ErrorTrackingModule } from '../../error-tracking/error-tracking.module';
import { UsersModule } from '../../users/users.module';
import { ChatModule } from '../chat/chat.module';
import { EmbeddingsModule } from '../embeddings/embeddings.module';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { TitlesModule } from '../titles/titles.module';
import { AiJobsModule } from './ai-jobs.module';
import { AiJobsProcessor } from './ai-jobs.processor';

// Processes the queue: imported by the worker and `all` roles only.
@Module({
  imports: [AiJobsModule, ChatModule, EmbeddingsModule, KnowledgeModule, TitlesModule, ErrorTrackingModule, UsersModule],
  providers: [AiJobsProcessor],
})
export class AiJobsWorkerModule {}
