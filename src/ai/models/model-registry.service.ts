import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import { ModelResponseDto } from './dto/model-response.dto';
import { mapModel } from './model.mapper';
import { buildModelRegistry, registrySettingsOf } from './model-registry.factory';
import { type ModelCapability, type ProviderKind, type RegisteredModel } from './model.types';

const PROVIDER_NAMES: Record<ProviderKind, string> = { openai: 'OpenAI', anthropic: 'Anthropic', gemini: 'Gemini' };

// The models clients may ask for, built when the app is created (createApp checks the same
// settings first, so that a file that cannot be used stops the start with one line).
@Injectable()
export class ModelRegistry {
  private readonly byId = new Map<string, RegisteredModel>();
  private readonly providersOn: Record<ProviderKind, boolean>;

  constructor(private readonly config: AppConfigService) {
    const settings = registrySettingsOf((key) => config.get(key));
    this.providersOn = settings.providersOn;
    for (const model of buildModelRegistry(settings)) this.byId.set(model.id, model);
  }

  isProviderOn(provider: ProviderKind): boolean {
    return this.providersOn[provider];
  }

  // The models a client can use now (their provider is on), in registry order, defaults marked.
  listAvailable(): ModelResponseDto[] {
    const defaults = new Set([this.config.get('OPENAI_MODEL'), this.config.get('OPENAI_EMBEDDING_MODEL')]);
    return [...this.byId.values()].filter((model) => this.providersOn[model.provider]).map((model) => mapModel(model, defaults.has(model.id)));
  }

  // The model a call runs on: `id`, or the default for the capability. 400 for a model the registry
  // does not list (or not for this use), before anything reaches an upstream; 503 while its
  // provider is off.
  resolve(id: string | null | undefined, capability: ModelCapability): RegisteredModel {
    const wanted = id ?? this.config.get(capability === 'chat' ? 'OPENAI_MODEL' : 'OPENAI_EMBEDDING_MODEL');
    const model = this.byId.get(wanted);
    if (!model || !model.capabilities.includes(capability)) {
      throw new AppError('VALIDATION_FAILED', `model ${wanted} is not available for ${capability}; GET /api/v1/ai/models lists the models`);
    }
    if (!this.providersOn[model.provider]) throw new AppError('LLM_NOT_CONFIGURED', `${PROVIDER_NAMES[model.provider]} client not initialized`);
    return model;
  }

  // The same check without the model, for a producer that only queues the call.
  assertAvailable(id: string | null | undefined, capability: ModelCapability): void {
    this.resolve(id, capability);
  }

  // A registered model by id, whatever its provider's state (fallback lists name ids).
  find(id: string): RegisteredModel | undefined {
    return this.byId.get(id);
  }
}
