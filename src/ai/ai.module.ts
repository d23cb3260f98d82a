import { Module } from '@nestjs/common';
import { AiCoreModule } from './ai-core.module';
import { AiController } from './chat/ai.controller';
import { ConversationsController } from './conversations/conversations.controller';

// The AI REST routes; importers also get the services (re-exported from AiCoreModule).
@Module({
  imports: [AiCoreModule],
  controllers: [AiController, ConversationsController],
  exports: [AiCoreModule],
})
export class AiModule {}
