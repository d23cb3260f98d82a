import { ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsUUID, Max, Min, ValidateBy, validateSync, ValidationOptions } from 'class-validator';

export const KNOWLEDGE_TOP_K_DEFAULT = 5;
export const KNOWLEDGE_TOP_K_MAX = 20;

// Which of the user's documents a retrieval-augmented turn draws on, and how many chunks.
export class KnowledgeOptionsDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: "Only these of the user's ready documents; default: all of them" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  documentIds?: string[];

  @ApiPropertyOptional({ minimum: 1, maximum: KNOWLEDGE_TOP_K_MAX, default: KNOWLEDGE_TOP_K_DEFAULT, description: 'How many chunks are given to the model' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(KNOWLEDGE_TOP_K_MAX)
  topK?: number;
}

// `knowledge`: a boolean, or KnowledgeOptionsDto's object checked by its own rules (unknown keys
// refused, as everywhere). class-validator has no union of a primitive and a nested class.
export function IsKnowledge(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isKnowledge',
      validator: {
        validate: (value: unknown) => typeof value === 'boolean' || knowledgeProblems(value).length === 0,
        defaultMessage: (args) => {
          const problems = typeof args?.value === 'boolean' ? [] : knowledgeProblems(args?.value);
          return `knowledge must be true or { documentIds?, topK? }${problems.length ? `: ${problems.join('; ')}` : ''}`;
        },
      },
    },
    options,
  );
}

function knowledgeProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['not an object'];
  const errors = validateSync(plainToInstance(KnowledgeOptionsDto, value), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}
