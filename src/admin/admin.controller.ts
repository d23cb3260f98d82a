import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ApiAuthenticatedTag } from '../ai/api/api-docs.decorators';
import { PageQueryDto } from '../common/dto/page-query.dto';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UsageAnalyticsService } from '../budget/usage-analytics.service';
import { AdminUsersService } from './admin-users.service';
import { AdminGuard } from './admin.guard';
import {
  AdminUsageQueryDto,
  AdminUsageResponseDto,
  AdminUserPageResponseDto,
  AdminUserResponseDto,
  AuditPageResponseDto,
  ListUsersQueryDto,
  UpdateUserDto,
} from './dto/admin.dto';

@ApiAuthenticatedTag('admin')
@ApiResponse({ status: 403, description: 'The caller is not an admin' })
@UseGuards(AdminGuard)
@Controller('admin')
export class AdminController {
  constructor(
    private readonly admin: AdminUsersService,
    private readonly analytics: UsageAnalyticsService,
  ) {}

  @Get('users')
  @ApiOperation({ summary: 'Every account with its usage and cost, newest first' })
  @ApiResponse({ status: 200, type: AdminUserPageResponseDto })
  listUsers(@Query() query: ListUsersQueryDto): Promise<AdminUserPageResponseDto> {
    return this.admin.listUsers(query);
  }

  @Patch('users/:id')
  @ApiOperation({ summary: "Change an account's token limit, disabled flag or role (audited)" })
  @ApiResponse({ status: 200, type: AdminUserResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid body, nothing to change, or an admin disabling or demoting themselves' })
  @ApiResponse({ status: 404, description: 'No such user' })
  updateUser(@CurrentUser() actor: AuthUser, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateUserDto): Promise<AdminUserResponseDto> {
    return this.admin.updateUser(actor, id, dto);
  }

  @Get('usage')
  @ApiOperation({ summary: 'Usage over every user in a range of UTC days, grouped by day, model or user' })
  @ApiResponse({ status: 200, type: AdminUsageResponseDto })
  @ApiResponse({ status: 400, description: 'A malformed day, from after to, more than 366 days, or an unknown groupBy' })
  getUsage(@Query() query: AdminUsageQueryDto): Promise<AdminUsageResponseDto> {
    return this.analytics.overview(query);
  }

  @Get('audit')
  @ApiOperation({ summary: 'Changes admins made to accounts, newest first' })
  @ApiResponse({ status: 200, type: AuditPageResponseDto })
  listAudit(@Query() query: PageQueryDto): Promise<AuditPageResponseDto> {
    return this.admin.listAudit(query);
  }
}
