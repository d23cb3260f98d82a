import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Min,
  MinLength,
  ValidateNested,
  ValidationError,
  validateSync,
} from 'class-validator';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { MODEL_CAPABILITIES, PROVIDER_KINDS, type ModelCapability, type ProviderKind } from './model.types';

class PricingDefinition {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  inputPerMTok: number;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  outputPerMTok: number;
}

// One model of AI_MODELS_FILE: only `id` and `provider` are required; what is left out comes from
// the catalogue (or `upstreamModel` = `id`, `capabilities` = ["chat"], `fallbacks` = []).
export class ModelDefinition {
  @IsString()
  @Matches(/^[\w.:/@+-]{1,100}$/, { message: 'id must be a model name (letters, digits, . : / @ + - _)' })
  id: string;

  @IsIn(PROVIDER_KINDS)
  provider: ProviderKind;

  @IsOptional()
  @IsString()
  @MinLength(1)
  upstreamModel?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  contextWindow?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  maxOutputTokens?: number;

  // null: the model has no price (its calls cost nothing in USD here); absent: the catalogue's.
  @IsOptional()
  @ValidateNested()
  @Type(() => PricingDefinition)
  pricing?: PricingDefinition | null;

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(MODEL_CAPABILITIES, { each: true })
  capabilities?: ModelCapability[];

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsString({ each: true })
  fallbacks?: string[];
}

class ModelsFile {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ModelDefinition)
  models: ModelDefinition[];
}

// Reads and checks AI_MODELS_FILE (JSON, or YAML for .yaml/.yml). Throws with one line that names
// the first problem.
export function readModelsFile(path: string): ModelDefinition[] {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${path}: expected an object with "models"`);
  const file = plainToInstance(ModelsFile, raw);
  const [problem] = validateSync(file, { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true });
  if (problem) throw new Error(`${path}: ${firstMessage(problem)}`);
  return file.models;
}

function firstMessage(error: ValidationError, path = ''): string {
  const here = path ? `${path}.${error.property}` : error.property;
  const constraint = Object.values(error.constraints ?? {})[0];
  if (constraint) return `${here}: ${constraint}`;
  const [child] = error.children ?? [];
  return child ? firstMessage(child, here) : `${here} is invalid`;
}
