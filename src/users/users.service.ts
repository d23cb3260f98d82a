import { Injectable } from '@nestjs/common';
import { NotFoundError, TokenLimitExceededError } from '../common/errors/app-error';
import { AppConfigService } from '../config/app-config.service';
import type { User } from '../generated/prisma/client';
import { UsersRepository } from './users.repository';

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

  // The budget check before every AI call: 403 once the lifetime budget is used up.
  async assertWithinTokenBudget(userId: string): Promise<void> {
    const budget = await this.users.findBudget(userId);
    if (!budget) throw new NotFoundError('User');
    if (budget.totalTokensUsed >= budget.tokenLimit) throw new TokenLimitExceededError();
  }
}
