import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CitationDto } from '../../conversations/dto/conversation.dto';

export class ChatResponseDto {
  @ApiProperty({ format: 'uuid' }) conversationId: string;
  @ApiProperty({ format: 'uuid', description: 'The stored assistant message' }) messageId: string;
  @ApiProperty({ example: 'NestJS is a progressive Node.js framework...' }) content: string;
  @ApiProperty({ example: 'gpt-4' }) model: string;
  @ApiProperty({ example: 256, description: "The upstream's usage.total_tokens for this turn" }) tokens: number;
  @ApiProperty({ nullable: true, type: Number, example: 0.00384, description: "USD at the model's prices; null: the model has no price" })
  costUsd: number | null;
  @ApiProperty() createdAt: Date;
  @ApiPropertyOptional({ type: [CitationDto], description: 'Only when the turn used knowledge: the sources the model was given' })
  citations?: CitationDto[];
}
