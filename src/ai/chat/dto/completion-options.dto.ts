import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { MaxFromConfig } from '../../../common/validation/config-limit.constraint';
import { IsOptionalModelName } from '../../../common/validation/is-model-name.decorator';

// Model settings shared by chat, streams and completion jobs; absent fields take the configured defaults.
export class CompletionOptionsDto {
  @ApiPropertyOptional({ example: 'gpt-4', description: 'Defaults to OPENAI_MODEL' })
  @IsOptionalModelName()
  model?: string;

  @ApiPropertyOptional({ minimum: 1, example: 4096, description: 'At most OPENAI_MAX_TOKENS (its default)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @MaxFromConfig('OPENAI_MAX_TOKENS')
  maxTokens?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 2, example: 0.7, description: 'Defaults to OPENAI_TEMPERATURE' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;
}
