import { Module } from '@nestjs/common';
import { BudgetModule } from '../../budget/budget.module';
import { PrismaModule } from '../../prisma/prisma.module';
import { LlmModule } from '../llm/llm.module';
import { ModelsModule } from '../models/models.module';
import { EmbeddingRecordRepository } from './embedding-record.repository';
import { EmbeddingService } from './embedding.service';

@Module({
  imports: [PrismaModule, BudgetModule, LlmModule, ModelsModule],
  providers: [EmbeddingService, EmbeddingRecordRepository],
  exports: [EmbeddingService],
})
export class EmbeddingsModule {}
