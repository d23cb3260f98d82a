import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { AiModule } from '../ai.module';
import { LlmModule } from '../llm/llm.module';
import { AiGateway } from './ai.gateway';
import { ChatStreamService } from './chat-stream.service';

@Module({
  imports: [AiModule, AuthModule, LlmModule],
  providers: [AiGateway, ChatStreamService],
  exports: [ChatStreamService],
})
export class AiStreamModule {}
