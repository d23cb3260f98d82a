import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';
import { SEARCH_MAX_DOCUMENT_IDS, SEARCH_TOP_K } from '../knowledge.constants';

export class SearchRequestDto {
  @ApiProperty({ example: 'When does the office open?', description: '1..AI_MAX_MESSAGE_LENGTH characters' })
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'query must not be blank' })
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  query: string;

  @ApiPropertyOptional({ minimum: SEARCH_TOP_K.min, maximum: SEARCH_TOP_K.max, default: SEARCH_TOP_K.default })
  // Not IsOptional: that would let `null` through in place of the default.
  @ValidateIf((_, value) => value !== undefined)
  @IsInt()
  @Min(SEARCH_TOP_K.min)
  @Max(SEARCH_TOP_K.max)
  topK: number = SEARCH_TOP_K.default;

  @ApiPropertyOptional({ type: [String], format: 'uuid', maxItems: SEARCH_MAX_DOCUMENT_IDS, description: "Search only these of the caller's ready documents" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(SEARCH_MAX_DOCUMENT_IDS)
  @IsUUID('all', { each: true })
  documentIds?: string[];
}

export class SearchResultDto {
  @ApiProperty({ format: 'uuid' }) documentId: string;
  @ApiProperty({ example: 'Onboarding guide' }) documentTitle: string;
  @ApiProperty({ format: 'uuid' }) chunkId: string;
  @ApiProperty({ example: 'Our office opens at nine.' }) content: string;
  @ApiProperty({ example: 0.83, description: 'Cosine similarity to the query, -1..1 (higher is closer)' }) score: number;
}

export class SearchResponseDto {
  @ApiProperty({ type: [SearchResultDto], description: 'Best first' }) results: SearchResultDto[];
}
