import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';

export class EmbeddingRequestDto {
  @ApiProperty({ example: 'Text to generate embeddings for', description: '1..AI_MAX_MESSAGE_LENGTH characters' })
  @IsString()
  @MinLength(1)
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  text: string;

  @ApiPropertyOptional({ example: 'text-embedding-3-small', description: 'Defaults to OPENAI_EMBEDDING_MODEL' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[\w.:/@+-]+$/, { message: 'model must be a model name' })
  model?: string;
}

export class EmbeddingResponseDto {
  @ApiProperty({ type: [Number], example: [0.123, -0.456] }) embedding: number[];
  @ApiProperty({ example: 'text-embedding-3-small' }) model: string;
  @ApiProperty({ example: 10 }) tokens: number;
}
