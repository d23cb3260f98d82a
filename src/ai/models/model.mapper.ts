import { ModelResponseDto } from './dto/model-response.dto';
import type { RegisteredModel } from './model.types';

export const mapModel = (model: RegisteredModel, isDefault: boolean): ModelResponseDto => ({
  id: model.id,
  provider: model.provider,
  contextWindow: model.contextWindow,
  maxOutputTokens: model.maxOutputTokens,
  pricing: model.pricing && { inputPerMTok: model.pricing.inputPerMTok, outputPerMTok: model.pricing.outputPerMTok },
  capabilities: [...model.capabilities],
  default: isDefault,
});
