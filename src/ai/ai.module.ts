import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { AiController } from './chat/ai.controller';
import { ChatService } from './chat/chat.service';
import { EmbeddingRecordRepository } from './chat/embedding-record.repository';
import { EmbeddingService } from './chat/embedding.service';
import { ConversationRepository } from './conversations/conversation.repository';
import { ConversationService } from './conversations/conversation.service';
import { ConversationsController } from './conversations/conversations.controller';
import { LlmModule } from './llm/llm.module';

@Module({
  imports: [UsersModule, LlmModule],
  controllers: [AiController, ConversationsController],
  providers: [ChatService, EmbeddingService, EmbeddingRecordRepository, ConversationService, ConversationRepository],
  exports: [ChatService, EmbeddingService, ConversationService],
})
export class AiModule {}
