// Usage summed over a set of calls (a day and model, a model, a user, everything).
export interface UsageSums {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  // Null: none of the calls had a price.
  costUsd: number | null;
}

export interface DailyUsageRow extends UsageSums {
  // UTC day, YYYY-MM-DD.
  date: string;
  model: string;
}

export const USAGE_GROUPINGS = ['day', 'model', 'user'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

// One group of the usage over every user: the key of its grouping is set, the others are absent.
export interface UsageGroupRow extends UsageSums {
  date?: string;
  model?: string;
  userId?: string;
  email?: string;
}

// An inclusive range of UTC days, YYYY-MM-DD.
export interface DayRange {
  from: string;
  to: string;
}
