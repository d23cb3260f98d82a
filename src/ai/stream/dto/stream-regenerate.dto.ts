import { ApiProperty } from '@nestjs/swagger';
import { Allow, IsBoolean, IsOptional, IsUUID } from 'class-validator';
import { RegenerateRequestDto } from '../../chat/dto/regenerate-request.dto';

// `chat:regenerate` takes the REST route's path parameters in its payload, beside its body.
export class StreamRegenerateDto extends RegenerateRequestDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  conversationId: string;

  @ApiProperty({ format: 'uuid', description: 'The assistant message to answer again' })
  @IsUUID()
  messageId: string;

  // Accepted and ignored, like on chat:start: the user is the socket's.
  @Allow()
  userId?: unknown;

  // As on chat:start: the stream goes on when the socket disconnects, and can be resumed.
  @IsOptional()
  @IsBoolean()
  resumable?: boolean;
}
