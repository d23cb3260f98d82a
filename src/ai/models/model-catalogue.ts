import { anthropicModels } from 'tokenlens/providers/anthropic';
import { googleModels } from 'tokenlens/providers/google';
import { openaiModels } from 'tokenlens/providers/openai';
import type { ModelPricing, ProviderKind } from './model.types';

interface CatalogueModel {
  cost?: { input?: number; output?: number };
  limit?: { context?: number; output?: number };
}
type Catalogue = { models: Record<string, CatalogueModel> };

export interface CatalogueFacts {
  contextWindow: number | null;
  maxOutputTokens: number | null;
  pricing: ModelPricing | null;
}

// The well-known models of each provider, offered by default while the provider is on. Their
// context windows and prices come from the catalogue below, never from numbers typed here.
export const WELL_KNOWN_MODELS: Record<ProviderKind, { chat: string[]; embeddings: string[] }> = {
  openai: {
    chat: ['gpt-4', 'gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-5', 'gpt-3.5-turbo'],
    embeddings: ['text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'],
  },
  anthropic: { chat: ['claude-sonnet-4-20250514', 'claude-opus-4-1-20250805', 'claude-3-5-haiku-20241022'], embeddings: [] },
  gemini: { chat: ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash'], embeddings: [] },
};

// tokenlens's per-provider tables (models.dev's catalogue): context window, largest output and
// price per million tokens of the providers' public models.
const CATALOGUES: Record<ProviderKind, Catalogue> = { openai: openaiModels, anthropic: anthropicModels, gemini: googleModels };

// What the catalogue knows of `upstreamModel` at `provider`; nulls for a model it does not list.
export function catalogueFacts(provider: ProviderKind, upstreamModel: string): CatalogueFacts {
  const known = CATALOGUES[provider].models[upstreamModel] as CatalogueModel | undefined;
  const cost = known?.cost;
  return {
    contextWindow: known?.limit?.context ?? null,
    maxOutputTokens: known?.limit?.output ?? null,
    pricing: cost?.input !== undefined && cost.output !== undefined ? { inputPerMTok: cost.input, outputPerMTok: cost.output } : null,
  };
}
