import { Injectable } from '@nestjs/common';
import { AppError, NotFoundError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import type { PromptTemplate } from '../../generated/prisma/client';
import { CreatePromptDto, PromptPageResponseDto, PromptResponseDto, UpdatePromptDto } from './dto/prompt.dto';
import { mapPrompt } from './prompt.mapper';
import { renderTemplate, templateVariables } from './prompt-template';
import { PromptFields, PromptsRepository } from './prompts.repository';

export interface ChatInput {
  message?: string;
  promptId?: string;
  variables?: Record<string, string>;
}

// A user's prompt templates, and their rendering into a chat message. Another user's template is
// "not found" (404), never "forbidden".
@Injectable()
export class PromptsService {
  constructor(
    private readonly prompts: PromptsRepository,
    private readonly config: AppConfigService,
  ) {}

  async createPrompt(userId: string, dto: CreatePromptDto): Promise<PromptResponseDto> {
    const { name, description, template } = dto;
    return mapPrompt(await this.prompts.create(userId, { name, description: description ?? null, template, variables: templateVariables(template) }));
  }

  async listPrompts(userId: string, page: number, limit: number): Promise<PromptPageResponseDto> {
    const { prompts, total } = await this.prompts.findPageForUser(userId, (page - 1) * limit, limit);
    return { data: prompts.map(mapPrompt), meta: { total, page, limit, totalPages: Math.ceil(total / limit) } };
  }

  async getPrompt(userId: string, id: string): Promise<PromptResponseDto> {
    return mapPrompt(await this.findOwned(userId, id));
  }

  // Changes only the fields given; a new template brings its variables along. An empty change
  // returns the template as it is.
  async updatePrompt(userId: string, id: string, dto: UpdatePromptDto): Promise<PromptResponseDto> {
    const fields: Partial<PromptFields> = {};
    if (dto.name !== undefined) fields.name = dto.name;
    if (dto.description !== undefined) fields.description = dto.description;
    if (dto.template !== undefined) {
      fields.template = dto.template;
      fields.variables = templateVariables(dto.template);
    }
    if (Object.keys(fields).length === 0) return this.getPrompt(userId, id);
    const updated = await this.prompts.updateForUser(id, userId, fields);
    if (!updated) throw new NotFoundError('Prompt');
    return mapPrompt(updated);
  }

  async deletePrompt(userId: string, id: string): Promise<void> {
    if (!(await this.prompts.deleteForUser(id, userId))) throw new NotFoundError('Prompt');
  }

  // The text of a chat message from one of the user's templates. Throws NOT_FOUND (404) for a
  // missing or foreign template and VALIDATION_FAILED (400) for a missing or unknown variable, or a
  // result that chat would refuse as a message (blank, or over AI_MAX_MESSAGE_LENGTH).
  async render(userId: string, promptId: string, values: Record<string, string>): Promise<string> {
    const prompt = await this.findOwned(userId, promptId);
    const text = renderTemplate(prompt.template, values);
    const maxLength = this.config.get('AI_MAX_MESSAGE_LENGTH');
    if (text.length > maxLength) {
      throw new AppError('VALIDATION_FAILED', `Rendered prompt is ${text.length} characters, more than AI_MAX_MESSAGE_LENGTH (${maxLength})`);
    }
    if (!/\S/.test(text)) throw new AppError('VALIDATION_FAILED', 'Rendered prompt must not be blank');
    return text;
  }

  // A chat input's message: written out, or rendered from one of the user's templates (the DTO
  // admits exactly one of the two).
  async messageOf(userId: string, input: ChatInput): Promise<string> {
    if (input.promptId !== undefined) return this.render(userId, input.promptId, input.variables ?? {});
    if (input.message === undefined) throw new AppError('VALIDATION_FAILED', 'exactly one of message and promptId must be given');
    return input.message;
  }

  private async findOwned(userId: string, id: string): Promise<PromptTemplate> {
    const prompt = await this.prompts.findByIdForUser(id, userId);
    if (!prompt) throw new NotFoundError('Prompt');
    return prompt;
  }
}
