import type { AdminAuditLog, User } from '../generated/prisma/client';
import { AdminUserResponseDto, AuditEntryResponseDto } from './dto/admin.dto';

export const mapAdminUser = (user: User): AdminUserResponseDto => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  disabled: user.disabled,
  tokenLimit: user.tokenLimit,
  totalTokensUsed: user.totalTokensUsed,
  totalCostUsd: user.totalCostUsd,
  lastActiveAt: user.lastAiCallAt,
  createdAt: user.createdAt,
});

export const mapAuditEntry = (row: AdminAuditLog): AuditEntryResponseDto => ({
  id: row.id,
  actorId: row.actorId,
  actorEmail: row.actorEmail,
  action: row.action,
  targetId: row.targetId,
  targetEmail: row.targetEmail,
  before: row.before as Record<string, unknown>,
  after: row.after as Record<string, unknown>,
  createdAt: row.createdAt,
});

export const pageMeta = (total: number, page: number, limit: number) => ({ total, page, limit, totalPages: Math.ceil(total / limit) });
