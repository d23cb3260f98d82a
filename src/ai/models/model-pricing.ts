import type { ModelPricing } from './model.types';

// The USD cost of a call at the model's prices (per million tokens), rounded to 1e-10 so that sums
// read cleanly; null when the model has no price.
export function costOf(pricing: ModelPricing | null, promptTokens: number, completionTokens: number): number | null {
  if (!pricing) return null;
  const cost = (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1_000_000;
  return Math.round(cost * 1e10) / 1e10;
}
