import type { Prisma } from '../generated/prisma/client';

// What one AI call used, as it is counted and recorded in the usage ledger.
export interface CallUsage {
  // `title`: a conversation's model-written title (AI_AUTO_TITLE).
  kind: 'chat' | 'embedding' | 'title';
  // The registry id of the model that answered.
  model: string;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  // Null: the model has no price.
  costUsd: number | null;
}

// How a finished AI call ends on the budget: its hold goes back and its usage, if any (none for a
// failed call), is counted and recorded — once per idempotency key.
export interface Settlement {
  heldTokens: number;
  usage: CallUsage | null;
  idempotencyKey?: string | null;
}

// A change to a user's budget that must commit together with another write (the turn's question,
// its answer): the repository that owns that write embeds its CTEs in its single statement, so
// both commit or neither does, in one round trip. Built only by BudgetService, so the budget's SQL
// stays in budget/. `onlyIf` is a further SQL condition (on the caller's CTEs) for it to apply.
export interface BudgetChange {
  toCtes(onlyIf?: Prisma.Sql): Prisma.Sql;
}

// A read of the user's standing, for a caller that answers it inside its own statement: one row
// with the boolean column "withinBudget", or no row when the user does not exist.
export interface BudgetStanding {
  toSql(): Prisma.Sql;
}

export interface UsageByModel {
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number | null;
}
