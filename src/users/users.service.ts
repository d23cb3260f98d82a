import { Injectable, Logger } from '@nestjs/common';
import { NotFoundError, TokenLimitExceededError } from '../common/errors/app-error';
import { AppConfigService } from '../config/app-config.service';
import type { User } from '../generated/prisma/client';
import { TOKEN_HOLD_TTL_MS } from './users.constants';
import { UsersRepository } from './users.repository';

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

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

  // A cheap pre-check (job enqueue): 403 once the lifetime budget is used up. AI calls themselves
  // reserve instead (reserveTokens), which also holds concurrent calls to the budget.
  async assertWithinTokenBudget(userId: string): Promise<void> {
    const budget = await this.users.findBudget(userId);
    if (!budget) throw new NotFoundError('User');
    if (budget.totalTokensUsed >= budget.tokenLimit) throw new TokenLimitExceededError();
  }

  // Before every AI call: holds the call's worst case (`tokens`) against the budget, or answers 403
  // when the usage plus the holds of the calls in flight reach the limit. A call is admitted while
  // anything is left, so the usage can pass the limit by at most one call's tokens, and only when
  // that call's worst case did not fit. Every hold goes back through settleTokenUsage or releaseTokens.
  async reserveTokens(userId: string, tokens: number): Promise<void> {
    if (await this.users.reserveTokens(userId, tokens, TOKEN_HOLD_TTL_MS)) return;
    if (!(await this.users.findBudget(userId))) throw new NotFoundError('User');
    throw new TokenLimitExceededError();
  }

  // A call that ends without tokens to count gives its hold back. Best effort, on error paths: a
  // hold that cannot be returned (the database is down) lapses after TOKEN_HOLD_TTL_MS.
  async releaseTokens(userId: string, tokens: number): Promise<void> {
    await this.users.settleTokenUsage(userId, { tokens: null, heldTokens: tokens }).catch((error: unknown) => {
      this.logger.warn({ err: error, userId, tokens }, 'could not release a token hold; it lapses on its own');
    });
  }
}
