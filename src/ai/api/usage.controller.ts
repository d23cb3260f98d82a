import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { DailyUsageResponseDto, UsageRangeQueryDto } from '../usage/dto/usage-daily.dto';
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

  @Get('usage/daily')
  @ApiOperation({ summary: "The caller's usage per UTC day and model (embeddings count as calls of their model)" })
  @ApiResponse({ status: 200, type: DailyUsageResponseDto })
  @ApiResponse({ status: 400, description: 'A malformed day, from after to, or more than 366 days' })
  getDailyUsage(@CurrentUser() user: AuthUser, @Query() query: UsageRangeQueryDto): Promise<DailyUsageResponseDto> {
    return this.usage.getDailyUsage(user.id, query);
  }
}
