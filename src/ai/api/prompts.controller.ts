import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { CreatePromptDto, ListPromptsQueryDto, PromptPageResponseDto, PromptResponseDto, UpdatePromptDto } from '../prompts/dto/prompt.dto';
import { PromptsService } from '../prompts/prompts.service';
import { ApiAuthenticatedTag } from './api-docs.decorators';

@ApiAuthenticatedTag('prompts')
@Controller('ai/prompts')
export class PromptsController {
  constructor(private readonly prompts: PromptsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a prompt template; its `{{name}}` placeholders become its variables' })
  @ApiResponse({ status: 201, type: PromptResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body' })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreatePromptDto): Promise<PromptResponseDto> {
    return this.prompts.createPrompt(user.id, dto);
  }

  @Get()
  @ApiOperation({ summary: "The caller's prompt templates, newest first" })
  @ApiResponse({ status: 200, type: PromptPageResponseDto })
  list(@CurrentUser() user: AuthUser, @Query() query: ListPromptsQueryDto): Promise<PromptPageResponseDto> {
    return this.prompts.listPrompts(user.id, query.page, query.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A prompt template' })
  @ApiResponse({ status: 200, type: PromptResponseDto })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<PromptResponseDto> {
    return this.prompts.getPrompt(user.id, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the fields given; a new template recomputes the variables' })
  @ApiResponse({ status: 200, type: PromptResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body' })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  update(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdatePromptDto): Promise<PromptResponseDto> {
    return this.prompts.updatePrompt(user.id, id, dto);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a prompt template' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, description: 'Not found (or not yours)' })
  remove(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.prompts.deletePrompt(user.id, id);
  }
}
