import { Injectable, Logger } from '@nestjs/common';
import { NotFoundError, TokenLimitExceededError } from '../common/errors/app-error';
import { TOKEN_HOLD_TTL_MS } from './budget.constants';
import { BudgetRepository } from './budget.repository';
import { BudgetChange, BudgetStanding, Settlement } from './budget.types';

// Each user's lifetime token budget. Every AI call holds its worst case before it reaches the model
// and settles with its real tokens when it ends, so concurrent calls cannot overspend the budget:
// a call is admitted while anything is left, so usage passes the limit by at most one call's tokens,
// and only when that call's worst case did not fit. A hold not settled (the instance died) lapses
// after TOKEN_HOLD_TTL_MS.
@Injectable()
export class BudgetService {
  private readonly logger = new Logger(BudgetService.name);

  constructor(private readonly budget: BudgetRepository) {}

  // A cheap pre-check (job enqueue): 403 once the lifetime budget is used up.
  async assertWithinBudget(userId: string): Promise<void> {
    const standing = await this.budget.findStanding(userId);
    if (!standing) throw new NotFoundError('User');
    if (standing.totalTokensUsed >= standing.tokenLimit) throw new TokenLimitExceededError();
  }

  async getUsage(userId: string): Promise<{ totalTokensUsed: number; lastAiCallAt: Date | null }> {
    const standing = await this.budget.findStanding(userId);
    if (!standing) throw new NotFoundError('User');
    return { totalTokensUsed: standing.totalTokensUsed, lastAiCallAt: standing.lastAiCallAt };
  }

  // Holds `tokens` or answers 403 when the usage plus the holds of the calls in flight reach the limit.
  async reserve(userId: string, tokens: number): Promise<void> {
    if (await this.budget.reserve(userId, tokens, TOKEN_HOLD_TTL_MS)) return;
    if (!(await this.budget.findStanding(userId))) throw new NotFoundError('User');
    throw new TokenLimitExceededError();
  }

  // A call that ends without tokens to count gives its hold back. Best effort, on error paths: a
  // hold that cannot be returned (the database is down) lapses on its own.
  async release(userId: string, heldTokens: number): Promise<void> {
    await this.budget.settle(userId, { tokens: null, heldTokens }).catch((error: unknown) => {
      this.logger.warn({ err: error, userId, heldTokens }, 'could not release a token hold; it lapses on its own');
    });
  }

  // For a read that answers the budget check alongside its own questions.
  standingOf(userId: string): BudgetStanding {
    return { toSql: () => this.budget.standingSql(userId) };
  }

  // The hold as part of another write's statement; the caller learns from its own rows whether it
  // was taken (nothing was written when it was refused).
  holdOf(userId: string, tokens: number): BudgetChange {
    return { toSql: (onlyIf) => this.budget.reserveSql(userId, tokens, TOKEN_HOLD_TTL_MS, onlyIf) };
  }

  // The settle as part of another write's statement.
  settlementOf(userId: string, settlement: Settlement): BudgetChange {
    return { toSql: (onlyIf) => this.budget.settleSql(userId, settlement, onlyIf) };
  }
}
