import { ApiProperty } from '@nestjs/swagger';

export class ChatResponseDto {
  @ApiProperty({ format: 'uuid' }) conversationId: string;
  @ApiProperty({ format: 'uuid', description: 'The stored assistant message' }) messageId: string;
  @ApiProperty({ example: 'NestJS is a progressive Node.js framework...' }) content: string;
  @ApiProperty({ example: 'gpt-4' }) model: string;
  @ApiProperty({ example: 256, description: "The upstream's usage.total_tokens for this turn" }) tokens: number;
  @ApiProperty({ nullable: true, type: Number, example: 0.00384, description: "USD at the model's prices; null: the model has no price" })
  costUsd: number | null;
  @ApiProperty() createdAt: Date;
}
