import { Module } from '@nestjs/common';
import { PrismaModule } from '../../prisma/prisma.module';
import { ModerationModule } from '../moderation/moderation.module';
import { ConversationRepository } from './conversation.repository';
import { ConversationService } from './conversation.service';

@Module({
  imports: [PrismaModule, ModerationModule],
  providers: [ConversationService, ConversationRepository],
  exports: [ConversationService],
})
export class ConversationsModule {}
