import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches, MinLength } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';
import { CompletionOptionsDto } from './completion-options.dto';

export class ChatRequestDto extends CompletionOptionsDto {
  @ApiProperty({ example: 'Explain NestJS to me', description: '1..AI_MAX_MESSAGE_LENGTH characters' })
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'message must not be blank' })
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  message: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'Continue this conversation; omit (or null) to start a new one' })
  @IsOptional()
  @IsUUID()
  conversationId?: string | null;
}
