import { Module } from '@nestjs/common';
import { BudgetModule } from '../../budget/budget.module';
import { LlmModule } from '../llm/llm.module';
import { ModelsModule } from '../models/models.module';
import { EmbeddingService } from './embedding.service';

@Module({
  imports: [BudgetModule, LlmModule, ModelsModule],
  providers: [EmbeddingService],
  exports: [EmbeddingService],
})
export class EmbeddingsModule {}
