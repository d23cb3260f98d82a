import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { UsageResponseDto } from '../usage/dto/usage.dto';
import { UsageService } from '../usage/usage.service';
import { ApiAuthenticatedTag } from './api-docs.decorators';

@ApiAuthenticatedTag('ai')
@Controller('ai')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get('usage')
  @ApiOperation({ summary: "The caller's token usage and counts" })
  @ApiResponse({ status: 200, type: UsageResponseDto })
  getUsage(@CurrentUser() user: AuthUser): Promise<UsageResponseDto> {
    return this.usage.getUsage(user.id);
  }
}
