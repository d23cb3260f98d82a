import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { UsageRangeQueryDto } from '../../ai/usage/dto/usage-daily.dto';
import { PageMetaDto } from '../../ai/conversations/dto/conversation.dto';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { USAGE_GROUPINGS, type UsageGrouping } from '../../budget/usage-analytics.types';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRoleName = (typeof USER_ROLES)[number];

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'ada', description: 'Part of the e-mail or the name, any case' })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MaxLength(254)
  q?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ example: 2_000_000, minimum: 0, maximum: 2_147_483_647, description: 'Lifetime token budget' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  tokenLimit?: number;

  @ApiPropertyOptional({ example: true, description: 'true: refused at once everywhere (tokens, sockets, queued jobs); false: allowed again' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRoleName;
}

export class AdminUsageQueryDto extends UsageRangeQueryDto {
  @ApiPropertyOptional({ enum: USAGE_GROUPINGS, default: 'day' })
  @IsOptional()
  @IsIn(USAGE_GROUPINGS)
  groupBy: UsageGrouping = 'day';

  @ApiPropertyOptional({ minimum: 1, maximum: 10_000, default: 100, description: 'Most groups returned (users: the top ones by tokens)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit: number = 100;
}

export class AdminUserResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'ada@example.com' }) email: string;
  @ApiProperty({ nullable: true, type: String, example: 'Ada' }) name: string | null;
  @ApiProperty({ enum: USER_ROLES }) role: UserRoleName;
  @ApiProperty({ example: false }) disabled: boolean;
  @ApiProperty({ example: 1_000_000 }) tokenLimit: number;
  @ApiProperty({ example: 12500 }) totalTokensUsed: number;
  @ApiProperty({ example: 0.0568, description: 'Lifetime cost in USD' }) totalCostUsd: number;
  @ApiProperty({ nullable: true, type: Date, description: 'Time of the last AI call' }) lastActiveAt: Date | null;
  @ApiProperty() createdAt: Date;
}

export class AdminUserPageResponseDto {
  @ApiProperty({ type: [AdminUserResponseDto], description: 'Newest accounts first' }) data: AdminUserResponseDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}

export class UsageSumsDto {
  @ApiProperty({ example: 42 }) requests: number;
  @ApiProperty({ example: 9100 }) promptTokens: number;
  @ApiProperty({ example: 3400 }) completionTokens: number;
  @ApiProperty({ example: 12500 }) totalTokens: number;
  @ApiProperty({ nullable: true, type: Number, example: 0.0568, description: 'USD; null: none of the calls had a price' }) costUsd: number | null;
}

export class UsageGroupDto extends UsageSumsDto {
  @ApiPropertyOptional({ example: '2026-01-30', description: 'groupBy=day: the UTC day' }) date?: string;
  @ApiPropertyOptional({ example: 'gpt-4o', description: 'groupBy=model' }) model?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'groupBy=user' }) userId?: string;
  @ApiPropertyOptional({ example: 'ada@example.com', description: 'groupBy=user' }) email?: string;
}

export class AdminUsageResponseDto {
  @ApiProperty({ example: '2026-01-01' }) from: string;
  @ApiProperty({ example: '2026-01-30' }) to: string;
  @ApiProperty({ enum: USAGE_GROUPINGS }) groupBy: UsageGrouping;
  @ApiProperty({ type: UsageSumsDto, description: 'Over every user and model in the range' }) totals: UsageSumsDto;
  @ApiProperty({ type: [UsageGroupDto], description: 'Days or models in order; users biggest first' }) groups: UsageGroupDto[];
}

export class AuditEntryResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The admin; null: a change from the shell' }) actorId: string | null;
  @ApiProperty({ example: 'root@example.com', description: 'The admin’s e-mail, or "cli"' }) actorEmail: string;
  @ApiProperty({ example: 'user.update' }) action: string;
  @ApiProperty({ format: 'uuid' }) targetId: string;
  @ApiProperty({ example: 'ada@example.com' }) targetEmail: string;
  @ApiProperty({ example: { disabled: false }, description: 'The changed fields before' }) before: Record<string, unknown>;
  @ApiProperty({ example: { disabled: true }, description: 'The changed fields after' }) after: Record<string, unknown>;
  @ApiProperty() createdAt: Date;
}

export class AuditPageResponseDto {
  @ApiProperty({ type: [AuditEntryResponseDto], description: 'Newest first' }) data: AuditEntryResponseDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
