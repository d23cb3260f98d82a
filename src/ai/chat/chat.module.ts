import { Module } from '@nestjs/common';
import { BudgetModule } from '../../budget/budget.module';
import { PrismaModule } from '../../prisma/prisma.module';
import { LlmModule } from '../llm/llm.module';
import { ModelsModule } from '../models/models.module';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { ModerationModule } from '../moderation/moderation.module';
import { PromptsModule } from '../prompts/prompts.module';
import { TitlesModule } from '../titles/titles.module';
import { ChatTurnRepository } from './chat-turn.repository';
import { ChatTurnRunner } from './chat-turn.runner';
import { ChatService } from './chat.service';

// The chat turn, without any route: REST, the socket gateway and the job worker all run it.
@Module({
  imports: [PrismaModule, BudgetModule, LlmModule, ModelsModule, ModerationModule, PromptsModule, KnowledgeModule, TitlesModule],
  providers: [ChatTurnRunner, ChatTurnRepository, ChatService],
  exports: [ChatTurnRunner, ChatService],
})
export class ChatModule {}
