import { Module } from '@nestjs/common';
import { BudgetModule } from '../../budget/budget.module';
import { PrismaModule } from '../../prisma/prisma.module';
import { AiQueueModule } from '../../queue/ai-queue.module';
import { RealtimeModule } from '../../realtime/realtime.module';
import { LlmModule } from '../llm/llm.module';
import { ModelsModule } from '../models/models.module';
import { ConversationTitlesRepository } from './conversation-titles.repository';
import { ConversationTitlesService } from './conversation-titles.service';
import { TitleScheduler } from './title-scheduler';

// Model-written conversation titles (AI_AUTO_TITLE): the chat turn queues the job, the AI job
// worker runs it.
@Module({
  imports: [AiQueueModule, PrismaModule, BudgetModule, LlmModule, ModelsModule, RealtimeModule],
  providers: [TitleScheduler, ConversationTitlesService, ConversationTitlesRepository],
  exports: [TitleScheduler, ConversationTitlesService],
})
export class TitlesModule {}
