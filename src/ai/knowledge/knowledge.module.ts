import { Module } from '@nestjs/common';
import { BudgetModule } from '../../budget/budget.module';
import { PrismaModule } from '../../prisma/prisma.module';
import { RealtimeModule } from '../../realtime/realtime.module';
import { VectorModule } from '../../vector/vector.module';
import { LlmModule } from '../llm/llm.module';
import { ModelsModule } from '../models/models.module';
import { ChunksRepository } from './chunks.repository';
import { DocumentIngestionService } from './document-ingestion.service';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { KnowledgeAvailableGuard } from './knowledge-available.guard';
import { KnowledgeEmbedder } from './knowledge-embedder';
import { KnowledgeService } from './knowledge.service';

// Documents, their ingestion and semantic search over pgvector (docs/knowledge.md). Holds no
// routes: AiApiModule serves them, AiJobsModule queues the ingestion and the worker runs it.
@Module({
  imports: [PrismaModule, BudgetModule, LlmModule, ModelsModule, VectorModule, RealtimeModule],
  providers: [KnowledgeService, DocumentsService, DocumentIngestionService, DocumentsRepository, ChunksRepository, KnowledgeEmbedder, KnowledgeAvailableGuard],
  exports: [KnowledgeService, DocumentsService, DocumentIngestionService, KnowledgeAvailableGuard, VectorModule],
})
export class KnowledgeModule {}
