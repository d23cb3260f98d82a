import { Injectable } from '@nestjs/common';
import { AccountAccessService } from '../access/account-access.service';
import { ChatStreamService } from '../ai/stream/chat-stream.service';
import type { AuthUser } from '../auth/auth-user';
import { TokenService } from '../auth/token.service';
import { AppError } from '../common/errors/app-error';
import type { User } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import { UserEventsPublisher } from '../realtime/user-events.publisher';
import type { UserChanges } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { AdminAuditRepository } from './admin-audit.repository';
import { mapAdminUser, mapAuditEntry, pageMeta } from './admin.mapper';
import { AdminUserPageResponseDto, AdminUserResponseDto, AuditPageResponseDto, ListUsersQueryDto, UpdateUserDto } from './dto/admin.dto';

const EDITABLE = ['tokenLimit', 'disabled', 'role'] as const;

// What admins do to accounts. Each change commits together with its audit row; disabling then
// reaches every instance (the in-memory set of disabled accounts) and closes the user's sockets.
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersService,
    private readonly audit: AdminAuditRepository,
    private readonly access: AccountAccessService,
    private readonly events: UserEventsPublisher,
    private readonly streams: ChatStreamService,
    private readonly tokens: TokenService,
    private readonly prisma: PrismaService,
  ) {}

  async listUsers(query: ListUsersQueryDto): Promise<AdminUserPageResponseDto> {
    const { rows, total } = await this.users.listUsers(query);
    return { data: rows.map(mapAdminUser), meta: pageMeta(total, query.page, query.limit) };
  }

  async listAudit(query: { page: number; limit: number }): Promise<AuditPageResponseDto> {
    const { rows, total } = await this.audit.findPage(query);
    return { data: rows.map(mapAuditEntry), meta: pageMeta(total, query.page, query.limit) };
  }

  async updateUser(actor: AuthUser, targetId: string, dto: UpdateUserDto): Promise<AdminUserResponseDto> {
    if (EDITABLE.every((field) => dto[field] === undefined)) throw new AppError('VALIDATION_FAILED', 'Send at least one of tokenLimit, disabled, role');
    // No admin locks themselves out: another admin, or `npm run user:role` from the shell, can.
    if (targetId === actor.id && (dto.disabled === true || dto.role === 'user')) {
      throw new AppError('VALIDATION_FAILED', 'Admins cannot disable or demote their own account');
    }
    const current = await this.users.getById(targetId);
    const changes = changedFields(current, dto);
    if (Object.keys(changes).length === 0) return mapAdminUser(current);
    const updated = await this.prisma.$transaction(async (tx) => {
      const user = await this.users.updateUser(targetId, changes, tx);
      if (changes.disabled === true) await this.tokens.revokeAllSessions(targetId, tx);
      const before = Object.fromEntries(Object.keys(changes).map((field) => [field, current[field as keyof UserChanges]]));
      await this.audit.record(
        { actorId: actor.id, actorEmail: actor.email, action: 'user.update', targetId, targetEmail: user.email, before, after: { ...changes } },
        tx,
      );
      return user;
    });
    if (changes.disabled !== undefined) await this.announceAccess(updated);
    return mapAdminUser(updated);
  }

  // The set first, so that a socket closed next cannot reconnect on any instance. Closing the
  // sockets stops plain streams; resumable and SSE streams outlive their clients, so they are
  // stopped by id wherever they run (their partial answers are kept, as for any stop).
  private async announceAccess(user: User): Promise<void> {
    await this.access.announce(user.id, user.disabled);
    if (!user.disabled) return;
    this.events.disconnectUser(user.id);
    await this.streams.stopUserStreams(user.id);
  }
}

function changedFields(current: User, dto: UpdateUserDto): UserChanges {
  const changes: UserChanges = {};
  if (dto.tokenLimit !== undefined && dto.tokenLimit !== current.tokenLimit) changes.tokenLimit = dto.tokenLimit;
  if (dto.disabled !== undefined && dto.disabled !== current.disabled) changes.disabled = dto.disabled;
  if (dto.role !== undefined && dto.role !== current.role) changes.role = dto.role;
  return changes;
}
