import { Injectable } from '@nestjs/common';
import type { Document } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export interface NewDocument {
  title: string;
  mimeType: string;
  sizeBytes: number;
  content: Uint8Array<ArrayBuffer>;
}

export interface DocumentPage {
  documents: Document[];
  total: number;
}

// Queries on documents (their chunks and vectors are in ChunksRepository). Every statement on a
// user's documents filters by userId, so "not mine" reads as "not found".
@Injectable()
export class DocumentsRepository {
  constructor(private readonly prisma: PrismaService) {}

  // The document and its bytes in one transaction: a job never finds a document without them.
  create(userId: string, { content, ...fields }: NewDocument): Promise<Document> {
    return this.prisma.document.create({ data: { userId, ...fields, upload: { create: { content } } } });
  }

  async findPageForUser(userId: string, skip: number, take: number): Promise<DocumentPage> {
    const [documents, total] = await Promise.all([
      this.prisma.document.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip, take }),
      this.prisma.document.count({ where: { userId } }),
    ]);
    return { documents, total };
  }

  findByIdForUser(id: string, userId: string): Promise<Document | null> {
    return this.prisma.document.findFirst({ where: { id, userId } });
  }

  // The document with the bytes still waiting to be ingested (null bytes: ingested already).
  async findWithUploadForUser(id: string, userId: string): Promise<{ document: Document; content: Uint8Array | null } | null> {
    const row = await this.prisma.document.findFirst({ where: { id, userId }, include: { upload: true } });
    if (!row) return null;
    const { upload, ...document } = row;
    return { document, content: upload?.content ?? null };
  }

  async countReadyForUser(userId: string, ids?: string[]): Promise<number> {
    return this.prisma.document.count({ where: { userId, status: 'ready', ...(ids ? { id: { in: ids } } : {}) } });
  }

  // Its chunks and bytes go with it (ON DELETE CASCADE).
  async deleteForUser(id: string, userId: string): Promise<boolean> {
    const { count } = await this.prisma.document.deleteMany({ where: { id, userId } });
    return count === 1;
  }

  async delete(id: string): Promise<void> {
    await this.prisma.document.deleteMany({ where: { id } });
  }
}
