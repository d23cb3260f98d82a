import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto } from '../../../common/dto/page-query.dto';
import { PageMetaDto } from '../../conversations/dto/conversation.dto';
import { DOCUMENT_MIME_TYPES, DOCUMENT_STATUSES, DOCUMENT_TITLE_MAX_LENGTH, type DocumentStatusName } from '../knowledge.constants';

// The fields beside the file of a multipart upload, and the whole JSON body: a file with an
// optional title, or a title with the text.
export class CreateDocumentDto {
  @ApiPropertyOptional({ example: 'Onboarding guide', maxLength: DOCUMENT_TITLE_MAX_LENGTH, description: 'Required with `text`; defaults to the file name' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'title must not be blank' })
  @MaxLength(DOCUMENT_TITLE_MAX_LENGTH)
  title?: string;

  @ApiPropertyOptional({
    example: 'Our office opens at nine. Badges are at the front desk.',
    description: 'The document as plain text, at most DOCUMENT_MAX_BYTES bytes (UTF-8)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'text must not be blank' })
  text?: string;
}

// The multipart form, for the OpenAPI document only (the file is read by the upload interceptor, the rest by CreateDocumentDto).
export class UploadDocumentFormDto {
  @ApiProperty({ type: 'string', format: 'binary', description: `${DOCUMENT_MIME_TYPES.join(', ')}; at most DOCUMENT_MAX_BYTES bytes` })
  file: unknown;

  @ApiPropertyOptional({ example: 'Onboarding guide', maxLength: DOCUMENT_TITLE_MAX_LENGTH, description: 'Defaults to the file name' })
  title?: string;
}

// Part 1 paging: the same page and limit as the conversation list.
export class ListDocumentsQueryDto extends PageQueryDto {}

export class DocumentQueuedResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Onboarding guide' }) title: string;
  @ApiProperty({ enum: ['processing'] }) status: 'processing';
  @ApiProperty({ format: 'uuid', description: 'The ingestion job (GET /ai/jobs/{jobId})' }) jobId: string;
}

export class DocumentResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Onboarding guide' }) title: string;
  @ApiProperty({ enum: DOCUMENT_MIME_TYPES, example: 'text/markdown' }) mimeType: string;
  @ApiProperty({ example: 5120 }) sizeBytes: number;
  @ApiProperty({ enum: DOCUMENT_STATUSES, example: 'ready' }) status: DocumentStatusName;
  @ApiProperty({ example: 12, description: 'Chunks stored for search (0 until ready)' }) chunkCount: number;
  @ApiProperty({ nullable: true, type: String, example: null, description: 'Why the ingestion failed' }) failedReason: string | null;
  @ApiProperty() createdAt: Date;
}

export class DocumentPageResponseDto {
  @ApiProperty({ type: [DocumentResponseDto] }) data: DocumentResponseDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
