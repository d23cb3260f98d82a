import type { PromptTemplate } from '../../generated/prisma/client';
import { PromptResponseDto } from './dto/prompt.dto';

export const mapPrompt = (p: PromptTemplate): PromptResponseDto => ({
  id: p.id,
  name: p.name,
  description: p.description,
  template: p.template,
  variables: p.variables,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});
