import { Injectable } from '@nestjs/common';
import { AppError, NotFoundError } from '../common/errors/app-error';
import { AppConfigService } from '../config/app-config.service';
import type { Prisma, User } from '../generated/prisma/client';
import { isRecordNotFound } from '../prisma/prisma-errors';
import { UserChanges, UsersRepository } from './users.repository';

// Accounts. Their token budget (usage, limit, holds) belongs to BudgetService.
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly config: AppConfigService,
  ) {}

  // ADMIN_EMAILS accounts are admins from the start.
  createUser(input: { email: string; passwordHash: string; name?: string }): Promise<User> {
    return this.users.create({
      email: input.email,
      passwordHash: input.passwordHash,
      name: input.name ?? null,
      tokenLimit: this.config.get('USER_TOKEN_LIMIT'),
      role: this.config.isAdminEmail(input.email) ? 'admin' : 'user',
    });
  }

  // At login: an account listed in ADMIN_EMAILS since it registered becomes an admin.
  async applyAdminEmails(user: User): Promise<User> {
    if (user.role === 'admin' || !this.config.isAdminEmail(user.email)) return user;
    return this.users.setRole(user.id, 'admin');
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findByEmail(email);
  }

  findById(id: string): Promise<User | null> {
    return this.users.findById(id);
  }

  async getById(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  // For work that runs later on the user's behalf (a queued job): a fresh read, not the cached set.
  async assertActive(id: string): Promise<void> {
    const user = await this.getById(id);
    if (user.disabled) throw new AppError('ACCOUNT_DISABLED', 'Account disabled');
  }

  async updateUser(id: string, changes: UserChanges, tx?: Prisma.TransactionClient): Promise<User> {
    return this.users.update(id, changes, tx).catch((error: unknown) => {
      throw isRecordNotFound(error) ? new NotFoundError('User') : error;
    });
  }

  listUsers(query: { q?: string; page: number; limit: number }): Promise<{ rows: User[]; total: number }> {
    return this.users.findPage(query);
  }

  findDisabledIds(): Promise<string[]> {
    return this.users.findDisabledIds();
  }
}
