import type { Document } from '../../generated/prisma/client';
import { DocumentResponseDto } from './dto/document.dto';

export const mapDocument = (d: Document): DocumentResponseDto => ({
  id: d.id,
  title: d.title,
  mimeType: d.mimeType,
  sizeBytes: d.sizeBytes,
  status: d.status,
  chunkCount: d.chunkCount,
  failedReason: d.failedReason,
  createdAt: d.createdAt,
});
