import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MinLength } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';
import { IsOptionalModelName } from '../../../common/validation/is-model-name.decorator';

export class EmbeddingRequestDto {
  @ApiProperty({ example: 'Text to generate embeddings for', description: '1..AI_MAX_MESSAGE_LENGTH characters' })
  @IsString()
  @MinLength(1)
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  text: string;

  @ApiPropertyOptional({ example: 'text-embedding-3-small', description: 'Defaults to OPENAI_EMBEDDING_MODEL' })
  @IsOptionalModelName()
  model?: string;
}

export class EmbeddingResponseDto {
  @ApiProperty({ type: [Number], example: [0.123, -0.456] }) embedding: number[];
  @ApiProperty({ example: 'text-embedding-3-small' }) model: string;
  @ApiProperty({ example: 10 }) tokens: number;
}
