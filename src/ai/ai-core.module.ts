import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { ChatTurnRepository } from './chat/chat-turn.repository';
import { ChatService } from './chat/chat.service';
import { EmbeddingRecordRepository } from './chat/embedding-record.repository';
import { EmbeddingService } from './chat/embedding.service';
import { ConversationRepository } from './conversations/conversation.repository';
import { ConversationService } from './conversations/conversation.service';
import { LlmModule } from './llm/llm.module';

// The AI services without any route: REST (AiModule), the gateway and the job processor share
// them, and the worker role imports only this, so it serves no AI routes.
@Module({
  imports: [UsersModule, LlmModule],
  providers: [ChatService, ChatTurnRepository, EmbeddingService, EmbeddingRecordRepository, ConversationService, ConversationRepository],
  exports: [ChatService, EmbeddingService, ConversationService],
})
export class AiCoreModule {}
