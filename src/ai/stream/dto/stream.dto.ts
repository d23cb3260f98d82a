import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Min } from 'class-validator';
import { Type } from 'class-transformer';

export class RunningStreamResponseDto {
  @ApiProperty({ format: 'uuid' })
  streamId!: string;

  @ApiProperty({ format: 'uuid' })
  conversationId!: string;

  @ApiProperty({ format: 'date-time' })
  startedAt!: string;

  @ApiProperty({ description: 'Started with `resumable: true` (or over SSE): it can be resumed and survives a disconnect' })
  resumable!: boolean;
}

export class StreamEventsQueryDto {
  @ApiPropertyOptional({ minimum: 0, description: 'The last chunk (`seq`) the client has; the Last-Event-ID header wins when both are sent. Default 0: every chunk.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  lastSeq?: number;
}
