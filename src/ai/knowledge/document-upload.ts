import type { MultipartOptions } from '@nestjs/platform-fastify';
import { extname } from 'node:path';
import { AppError } from '../../common/errors/app-error';
import { DOCUMENT_MIME_TYPES, type DocumentMimeType } from './knowledge.constants';

export interface UploadedDocumentFile {
  originalname: string;
  mimetype: string;
  size: number;
  buffer: Buffer;
}

const ALIASES: Record<string, DocumentMimeType> = { 'text/x-markdown': 'text/markdown' };
// Browsers and curl send files they do not know (often .md) as application/octet-stream.
const BY_EXTENSION: Record<string, DocumentMimeType> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.pdf': 'application/pdf',
};

// The document type of an uploaded file: its declared media type, or its extension when the
// client declared none. Null: not a type documents may have.
export function documentMimeTypeOf(file: Pick<UploadedDocumentFile, 'mimetype' | 'originalname'>): DocumentMimeType | null {
  const declared = file.mimetype.split(';')[0].trim().toLowerCase();
  if ((DOCUMENT_MIME_TYPES as readonly string[]).includes(declared)) return declared as DocumentMimeType;
  if (Object.hasOwn(ALIASES, declared)) return ALIASES[declared];
  if (declared === '' || declared === 'application/octet-stream') return BY_EXTENSION[extname(file.originalname).toLowerCase()] ?? null;
  return null;
}

export const unsupportedMediaType = () => new AppError('UNSUPPORTED_MEDIA_TYPE', `Unsupported file type: send ${DOCUMENT_MIME_TYPES.join(', ')}`);

// The document upload's settings (@fastify/multipart through Nest's FileInterceptor, with multer's
// option names and error answers): one file, kept in memory up to `maxBytes` (a larger one is cut
// off there and answered 413, the rest of the request drained unread), refused with 415 from its
// part header when its type is not a document's, before any of it is read.
export function documentUploadOptions(maxBytes: number): MultipartOptions {
  return {
    limits: { fileSize: maxBytes, files: 1, fields: 2, fieldSize: maxBytes, parts: 3 },
    defParamCharset: 'utf8',
    fileFilter: (_req, file, accept) => (documentMimeTypeOf(file) ? accept(null, true) : accept(unsupportedMediaType(), false)),
  };
}
