import type { Prisma } from '../generated/prisma/client';

// How a finished AI call ends on the budget: its tokens are counted (none for a failed call) and
// its hold goes back.
export interface Settlement {
  tokens: number | null;
  heldTokens: number;
}

// A change to a user's budget that must commit together with another write (the turn's question,
// its answer, an embedding record): the repository that owns that write embeds it as one CTE of
// its single statement, so both commit or neither does, in one round trip. Built only by
// BudgetService, so the budget's SQL stays in budget/.
export interface BudgetChange {
  // `onlyIf`: a further SQL condition (on the caller's CTEs) for the change to apply.
  toSql(onlyIf?: Prisma.Sql): Prisma.Sql;
}

// A read of the user's standing, for a caller that answers it inside its own statement: one row
// with the boolean column "withinBudget", or no row when the user does not exist.
export interface BudgetStanding {
  toSql(): Prisma.Sql;
}
