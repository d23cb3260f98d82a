import { ConfigValidationError, type Env } from '../../config/env.schema';
import { catalogueFacts, WELL_KNOWN_MODELS } from './model-catalogue';
import type { ModelCapability, ProviderKind, RegisteredModel } from './model.types';
import { ModelDefinition, readModelsFile } from './models-file';

export interface RegistrySettings {
  modelsFile?: string;
  defaultChatModel: string;
  defaultEmbeddingModel: string;
  providersOn: Record<ProviderKind, boolean>;
}

// The registry's settings from the configuration: a provider is on when it has a key or a base URL.
export function registrySettingsOf(get: <K extends keyof Env>(key: K) => Env[K]): RegistrySettings {
  return {
    modelsFile: get('AI_MODELS_FILE'),
    defaultChatModel: get('OPENAI_MODEL'),
    defaultEmbeddingModel: get('OPENAI_EMBEDDING_MODEL'),
    providersOn: {
      openai: Boolean(get('OPENAI_API_KEY') || get('OPENAI_BASE_URL')),
      anthropic: Boolean(get('ANTHROPIC_API_KEY') || get('ANTHROPIC_BASE_URL')),
      gemini: Boolean(get('GEMINI_API_KEY') || get('GEMINI_BASE_URL')),
    },
  };
}

// One line naming the setting at fault, printed as the process stops at start-up.
const invalid = (variable: string, problem: string) => new ConfigValidationError(`Invalid environment variable ${variable}: ${problem}`);

// The models clients may ask for: AI_MODELS_FILE's, or without it the default chat and embedding
// models, OpenAI's well-known ones and those of every other provider that is on. Throws a
// ConfigValidationError (one line) for a file that cannot be used or defaults it does not list.
export function buildModelRegistry(settings: RegistrySettings): RegisteredModel[] {
  const definitions = settings.modelsFile ? readFile(settings.modelsFile) : defaultDefinitions(settings);
  const models = definitions.map(complete);
  checkRegistry(models, settings);
  return models;
}

function readFile(path: string): ModelDefinition[] {
  try {
    return readModelsFile(path);
  } catch (error) {
    throw invalid('AI_MODELS_FILE', (error as Error).message);
  }
}

function defaultDefinitions({ defaultChatModel, defaultEmbeddingModel, providersOn }: RegistrySettings): ModelDefinition[] {
  const definitions = new Map<string, ModelDefinition>();
  const add = (id: string, provider: ProviderKind, capability: ModelCapability) => {
    if (!definitions.has(id)) definitions.set(id, { id, provider, capabilities: [capability] });
  };
  add(defaultChatModel, 'openai', 'chat');
  add(defaultEmbeddingModel, 'openai', 'embeddings');
  for (const provider of Object.keys(WELL_KNOWN_MODELS) as ProviderKind[]) {
    if (provider !== 'openai' && !providersOn[provider]) continue;
    for (const id of WELL_KNOWN_MODELS[provider].chat) add(id, provider, 'chat');
    for (const id of WELL_KNOWN_MODELS[provider].embeddings) add(id, provider, 'embeddings');
  }
  return [...definitions.values()];
}

function complete(definition: ModelDefinition): RegisteredModel {
  const upstreamModel = definition.upstreamModel ?? definition.id;
  const facts = catalogueFacts(definition.provider, upstreamModel);
  return {
    id: definition.id,
    provider: definition.provider,
    upstreamModel,
    contextWindow: definition.contextWindow ?? facts.contextWindow,
    maxOutputTokens: definition.maxOutputTokens ?? facts.maxOutputTokens,
    pricing: definition.pricing === undefined ? facts.pricing : definition.pricing && { ...definition.pricing },
    capabilities: definition.capabilities ?? ['chat'],
    fallbacks: definition.fallbacks ?? [],
  };
}

function checkRegistry(models: RegisteredModel[], settings: RegistrySettings): void {
  const byId = new Map<string, RegisteredModel>();
  for (const model of models) {
    if (byId.has(model.id)) throw invalid('AI_MODELS_FILE', `model ${model.id} is listed twice`);
    byId.set(model.id, model);
  }
  for (const model of models) {
    if (model.provider !== 'openai' && model.capabilities.includes('embeddings')) {
      throw invalid('AI_MODELS_FILE', `model ${model.id}: only the openai kind embeds text`);
    }
    for (const fallback of model.fallbacks) {
      const target = byId.get(fallback);
      if (!target) throw invalid('AI_MODELS_FILE', `model ${model.id}: fallback ${fallback} is not in the registry`);
      if (fallback === model.id) throw invalid('AI_MODELS_FILE', `model ${model.id} cannot fall back to itself`);
      if (!model.capabilities.every((capability) => target.capabilities.includes(capability))) {
        throw invalid('AI_MODELS_FILE', `model ${model.id}: fallback ${fallback} lacks one of its capabilities`);
      }
    }
  }
  const expect = (id: string, capability: ModelCapability, setting: string) => {
    if (!byId.get(id)?.capabilities.includes(capability)) throw invalid(setting, `${id} is not in the registry with the ${capability} capability`);
  };
  expect(settings.defaultChatModel, 'chat', 'OPENAI_MODEL');
  expect(settings.defaultEmbeddingModel, 'embeddings', 'OPENAI_EMBEDDING_MODEL');
}
