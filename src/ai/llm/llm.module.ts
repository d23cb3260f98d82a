import { Module } from '@nestjs/common';
import { MetricsModule } from '../../metrics/metrics.module';
import { OpenAiService } from './openai.service';

@Module({ imports: [MetricsModule], providers: [OpenAiService], exports: [OpenAiService] })
export class LlmModule {}
