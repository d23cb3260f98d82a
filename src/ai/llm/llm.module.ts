import { Module } from '@nestjs/common';
import { MetricsModule } from '../../metrics/metrics.module';
import { ModelsModule } from '../models/models.module';
import { LlmCallRecorder } from './llm-call';
import { LlmService } from './llm.service';
import { AnthropicProvider } from './providers/anthropic.provider';
import { GeminiProvider } from './providers/gemini.provider';
import { OpenAiProvider } from './providers/openai.provider';

@Module({
  imports: [MetricsModule, ModelsModule],
  providers: [LlmService, LlmCallRecorder, OpenAiProvider, AnthropicProvider, GeminiProvider],
  exports: [LlmService],
})
export class LlmModule {}
