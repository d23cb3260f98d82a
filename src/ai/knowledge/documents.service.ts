import { Injectable } from '@nestjs/common';
import { basename } from 'node:path';
import { AppError, NotFoundError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import { VECTOR_UNAVAILABLE_MESSAGE, VectorSupport } from '../../vector/vector-support.service';
import { mapDocument } from './document.mapper';
import { documentMimeTypeOf, unsupportedMediaType, UploadedDocumentFile } from './document-upload';
import { DocumentsRepository, NewDocument } from './documents.repository';
import { CreateDocumentDto, DocumentPageResponseDto, DocumentResponseDto } from './dto/document.dto';
import { DOCUMENT_TITLE_MAX_LENGTH } from './knowledge.constants';

// A file name may carry control characters (NUL among them, which PostgreSQL's text refuses).
// eslint-disable-next-line no-control-regex -- control characters are what this removes.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

export interface DocumentInput {
  fields: CreateDocumentDto;
  // A multipart upload's file (the upload interceptor has refused a type or size it cannot take already).
  file?: UploadedDocumentFile;
}

// A user's documents: stored for ingestion, listed, read, deleted. Another user's document is
// "not found" (404). Every route of the feature needs pgvector (503 without it).
@Injectable()
export class DocumentsService {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly vector: VectorSupport,
    private readonly config: AppConfigService,
  ) {}

  assertAvailable(): void {
    if (!this.vector.isAvailable) throw new AppError('VECTOR_SEARCH_UNAVAILABLE', VECTOR_UNAVAILABLE_MESSAGE);
  }

  // Stores the document (status processing) with its bytes until the ingestion job has read them.
  async createDocument(userId: string, input: DocumentInput): Promise<DocumentResponseDto> {
    this.assertAvailable();
    return mapDocument(await this.documents.create(userId, this.newDocumentOf(input)));
  }

  async listDocuments(userId: string, page: number, limit: number): Promise<DocumentPageResponseDto> {
    this.assertAvailable();
    const { documents, total } = await this.documents.findPageForUser(userId, (page - 1) * limit, limit);
    return { data: documents.map(mapDocument), meta: { total, page, limit, totalPages: Math.ceil(total / limit) } };
  }

  async getDocument(userId: string, id: string): Promise<DocumentResponseDto> {
    this.assertAvailable();
    const document = await this.documents.findByIdForUser(id, userId);
    if (!document) throw new NotFoundError('Document');
    return mapDocument(document);
  }

  // Its chunks go with it, so it leaves search at once; a job still ingesting it stops at its next batch.
  async deleteDocument(userId: string, id: string): Promise<void> {
    this.assertAvailable();
    if (!(await this.documents.deleteForUser(id, userId))) throw new NotFoundError('Document');
  }

  // A document whose job could not be queued.
  async discardDocument(id: string): Promise<void> {
    await this.documents.delete(id);
  }

  private newDocumentOf({ fields, file }: DocumentInput): NewDocument {
    if (file && fields.text !== undefined) throw new AppError('VALIDATION_FAILED', 'Send either a file or text, not both');
    if (file) return this.fromFile(file, fields.title);
    if (fields.text === undefined) throw new AppError('VALIDATION_FAILED', 'Send a file (multipart/form-data field "file") or JSON { title, text }');
    if (fields.title === undefined) throw new AppError('VALIDATION_FAILED', 'title is required with text');
    const content = new TextEncoder().encode(fields.text);
    this.assertSize(content.byteLength);
    return { title: fields.title, mimeType: 'text/plain', sizeBytes: content.byteLength, content };
  }

  private fromFile(file: UploadedDocumentFile, title: string | undefined): NewDocument {
    const mimeType = documentMimeTypeOf(file);
    if (!mimeType) throw unsupportedMediaType();
    if (file.size === 0) throw new AppError('VALIDATION_FAILED', 'file is empty');
    this.assertSize(file.size);
    const name = basename(file.originalname).replace(CONTROL_CHARACTERS, '').trim().slice(0, DOCUMENT_TITLE_MAX_LENGTH);
    return { title: title ?? (name || 'Untitled'), mimeType, sizeBytes: file.size, content: new Uint8Array(file.buffer) };
  }

  // The upload interceptor stops a larger file at this size; text sent as JSON is checked here.
  private assertSize(bytes: number): void {
    const max = this.config.get('DOCUMENT_MAX_BYTES');
    if (bytes > max) throw new AppError('PAYLOAD_TOO_LARGE', `Document is larger than DOCUMENT_MAX_BYTES (${max} bytes)`);
  }
}
