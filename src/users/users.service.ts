import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors/app-error';
import { AppConfigService } from '../config/app-config.service';
import type { User } from '../generated/prisma/client';
import { UsersRepository } from './users.repository';

// Accounts. Their token budget (usage, limit, holds) belongs to BudgetService.
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly config: AppConfigService,
  ) {}

  createUser(input: { email: string; passwordHash: string; name?: string }): Promise<User> {
    return this.users.create({
      email: input.email,
      passwordHash: input.passwordHash,
      name: input.name ?? null,
      tokenLimit: this.config.get('USER_TOKEN_LIMIT'),
    });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findByEmail(email);
  }

  async getById(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundError('User');
    return user;
  }
}
