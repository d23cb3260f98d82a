import { Module } from '@nestjs/common';
import { PrismaModule } from '../../prisma/prisma.module';
import { ConversationRepository } from './conversation.repository';
import { ConversationService } from './conversation.service';

@Module({
  imports: [PrismaModule],
  providers: [ConversationService, ConversationRepository],
  exports: [ConversationService],
})
export class ConversationsModule {}
