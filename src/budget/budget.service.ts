import { Injectable, Logger } from '@nestjs/common';
import { NotFoundError, TokenLimitExceededError } from '../common/errors/app-error';
import { TOKEN_HOLD_TTL_MS } from './budget.constants';
import { BudgetRepository } from './budget.repository';
import { BudgetChange, BudgetStanding, Settlement, UsageByModel } from './budget.types';

export interface UsageTotals {
  totalTokensUsed: number;
  totalCostUsd: number;
  lastAiCallAt: Date | null;
  byModel: UsageByModel[];
}

// Each user's lifetime token budget and usage. Every AI call holds its worst case before it reaches
// the model and settles with its real usage when it ends, so concurrent calls cannot overspend the
// budget: a call is admitted while anything is left, so usage passes the limit by at most one
// call's tokens, and only when that call's worst case did not fit. A hold not settled (the instance
// died) lapses after TOKEN_HOLD_TTL_MS. Every call that counted has a row in the usage ledger.
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

  async getUsage(userId: string): Promise<UsageTotals> {
    const [standing, byModel] = await Promise.all([this.budget.findStanding(userId), this.budget.usageByModel(userId)]);
    if (!standing) throw new NotFoundError('User');
    return { totalTokensUsed: standing.totalTokensUsed, totalCostUsd: standing.totalCostUsd, lastAiCallAt: standing.lastAiCallAt, byModel };
  }

  // Holds `tokens` or answers 403 when the usage plus the holds of the calls in flight reach the limit.
  async reserve(userId: string, tokens: number): Promise<void> {
    if (await this.budget.reserve(userId, tokens, TOKEN_HOLD_TTL_MS)) return;
    if (!(await this.budget.findStanding(userId))) throw new NotFoundError('User');
    throw new TokenLimitExceededError();
  }

  // Settles a call that writes nothing else (an embedding). False: a call with this idempotency
  // key was counted already (a retried job), so only the hold went back.
  settle(userId: string, settlement: Settlement): Promise<boolean> {
    return this.budget.settle(userId, settlement);
  }

  // A call that ends without usage to count gives its hold back. Best effort, on error paths: a
  // hold that cannot be returned (the database is down) lapses on its own.
  async release(userId: string, heldTokens: number): Promise<void> {
    await this.budget.settle(userId, { heldTokens, usage: null }).catch((error: unknown) => {
      this.logger.warn({ err: error, userId, heldTokens }, 'could not release a token hold; it lapses on its own');
    });
  }

  // For a read that answers the budget check alongside its own questions.
  standingOf(userId: string): BudgetStanding {
    return { toSql: () => this.budget.standingSql(userId) };
  }

  // The hold inside another write's statement: the CTE `hold` has a row when it was taken.
  holdOf(userId: string, tokens: number): BudgetChange {
    return { toCtes: (onlyIf) => this.budget.reserveCtes(userId, tokens, TOKEN_HOLD_TTL_MS, onlyIf) };
  }

  // The settle inside another write's statement (CTEs `budget_record` and `budget_settle`).
  settlementOf(userId: string, settlement: Settlement): BudgetChange {
    return { toCtes: (onlyIf) => this.budget.settleCtes(userId, settlement, onlyIf) };
  }
}
