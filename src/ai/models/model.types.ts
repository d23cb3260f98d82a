export const PROVIDER_KINDS = ['openai', 'anthropic', 'gemini'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const MODEL_CAPABILITIES = ['chat', 'embeddings'] as const;
export type ModelCapability = (typeof MODEL_CAPABILITIES)[number];

// USD per million tokens.
export interface ModelPricing {
  inputPerMTok: number;
  outputPerMTok: number;
}

// A model clients may ask for, by `id`; the upstream is sent `upstreamModel`.
export interface RegisteredModel {
  id: string;
  provider: ProviderKind;
  upstreamModel: string;
  // Null: not known (a local model the catalogue does not list): no context fitting, no cap.
  contextWindow: number | null;
  maxOutputTokens: number | null;
  pricing: ModelPricing | null;
  capabilities: ModelCapability[];
  // Tried in order when this model's upstream fails before its first token.
  fallbacks: string[];
}
