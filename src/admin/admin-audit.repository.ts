import { Injectable } from '@nestjs/common';
import type { AdminAuditLog, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';

export interface AuditEntry {
  actorId: string | null;
  actorEmail: string;
  action: string;
  targetId: string;
  targetEmail: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

@Injectable()
export class AdminAuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async record(entry: AuditEntry, tx: Prisma.TransactionClient = this.prisma): Promise<void> {
    await tx.adminAuditLog.create({ data: { ...entry, before: entry.before as Prisma.InputJsonObject, after: entry.after as Prisma.InputJsonObject } });
  }

  async findPage({ page, limit }: { page: number; limit: number }): Promise<{ rows: AdminAuditLog[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.prisma.adminAuditLog.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (page - 1) * limit, take: limit }),
      this.prisma.adminAuditLog.count(),
    ]);
    return { rows, total };
  }
}
