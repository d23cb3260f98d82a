import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ModelResponseDto } from '../models/dto/model-response.dto';
import { ModelRegistry } from '../models/model-registry.service';
import { ApiAuthenticatedTag } from './api-docs.decorators';

@ApiAuthenticatedTag('ai')
@Controller('ai')
export class ModelsController {
  constructor(private readonly models: ModelRegistry) {}

  @Get('models')
  @ApiOperation({ summary: 'The models a request may name (their provider is on); `default` marks the ones used when it names none' })
  @ApiResponse({ status: 200, type: [ModelResponseDto] })
  list(): ModelResponseDto[] {
    return this.models.listAvailable();
  }
}
