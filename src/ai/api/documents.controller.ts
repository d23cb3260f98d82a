import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-fastify';
import { ApiConsumes, ApiExtraModels, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { RateLimit } from '../../rate-limit/rate-limit.decorator';
import { AiJobsService } from '../jobs/ai-jobs.service';
import type { UploadedDocumentFile } from '../knowledge/document-upload';
import { DocumentsService } from '../knowledge/documents.service';
import {
  CreateDocumentDto,
  DocumentPageResponseDto,
  DocumentQueuedResponseDto,
  DocumentResponseDto,
  ListDocumentsQueryDto,
  UploadDocumentFormDto,
} from '../knowledge/dto/document.dto';
import { KnowledgeAvailableGuard } from '../knowledge/knowledge-available.guard';
import { ApiAuthenticatedTag } from './api-docs.decorators';

const VECTOR_OFF = { status: 503, description: 'Vector search needs the pgvector extension' };

@ApiAuthenticatedTag('knowledge')
@ApiResponse(VECTOR_OFF)
@UseGuards(KnowledgeAvailableGuard)
@Controller('ai/documents')
export class DocumentsController {
  constructor(
    private readonly jobs: AiJobsService,
    private readonly documents: DocumentsService,
  ) {}

  @Post()
  @RateLimit('ai')
  @HttpCode(HttpStatus.ACCEPTED)
  // The upload's limits and type check come from MultipartModule (AiApiModule), which reads the settings.
  @UseInterceptors(FileInterceptor('file'))
  @ApiConsumes('multipart/form-data', 'application/json')
  @ApiExtraModels(UploadDocumentFormDto, CreateDocumentDto)
  @ApiOperation({
    summary: 'Upload a document (multipart `file` + optional `title`, or JSON `{ title, text }`); a job makes it searchable',
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': { schema: { $ref: getSchemaPath(UploadDocumentFormDto) } },
        'application/json': { schema: { $ref: getSchemaPath(CreateDocumentDto) } },
      },
    },
  })
  @ApiResponse({ status: 202, type: DocumentQueuedResponseDto })
  @ApiResponse({ status: 400, description: 'No file or text, both, an empty file, or an invalid title' })
  @ApiResponse({ status: 403, description: 'Token limit exceeded' })
  @ApiResponse({ status: 413, description: 'Larger than DOCUMENT_MAX_BYTES' })
  @ApiResponse({ status: 415, description: 'Not text/plain, text/markdown or application/pdf' })
  @ApiResponse({ status: 429, description: 'Rate limit; see Retry-After' })
  create(@CurrentUser() user: AuthUser, @Body() fields: CreateDocumentDto, @UploadedFile() file?: UploadedDocumentFile): Promise<DocumentQueuedResponseDto> {
    return this.jobs.queueDocument(user.id, { fields, file });
  }

  @Get()
  @ApiOperation({ summary: "The caller's documents, newest first" })
  @ApiResponse({ status: 200, type: DocumentPageResponseDto })
  list(@CurrentUser() user: AuthUser, @Query() query: ListDocumentsQueryDto): Promise<DocumentPageResponseDto> {
    return this.documents.listDocuments(user.id, query.page, query.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A document and its ingestion status' })
  @ApiResponse({ status: 200, type: DocumentResponseDto })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<DocumentResponseDto> {
    return this.documents.getDocument(user.id, id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a document and its chunks' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  remove(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.documents.deleteDocument(user.id, id);
  }
}
