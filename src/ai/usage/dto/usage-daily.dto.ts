import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsUtcDay } from '../../../common/validation/is-utc-day.decorator';
import { ModelUsageDto } from './usage.dto';

export class UsageRangeQueryDto {
  @ApiPropertyOptional({ example: '2026-01-01', description: 'First UTC day, inclusive; default: 29 days before `to`' })
  @IsOptional()
  @IsUtcDay()
  from?: string;

  @ApiPropertyOptional({ example: '2026-01-30', description: 'Last UTC day, inclusive; default: today. At most 366 days in all' })
  @IsOptional()
  @IsUtcDay()
  to?: string;
}

export class DailyModelUsageDto extends ModelUsageDto {
  @ApiProperty({ example: '2026-01-30', description: 'UTC day' }) date: string;
}

export class DailyUsageResponseDto {
  @ApiProperty({ example: '2026-01-01' }) from: string;
  @ApiProperty({ example: '2026-01-30' }) to: string;
  @ApiProperty({ type: [DailyModelUsageDto], description: 'One row per day and model with usage, by day then model' }) days: DailyModelUsageDto[];
}
