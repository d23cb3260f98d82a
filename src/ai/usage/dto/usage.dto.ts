import { ApiProperty } from '@nestjs/swagger';

export class UsageResponseDto {
  @ApiProperty({ example: 12500, description: 'Lifetime tokens used (chat, streams, embeddings, jobs)' }) totalTokens: number;
  @ApiProperty({ example: 15 }) conversationsCount: number;
  @ApiProperty({ example: 87 }) messagesCount: number;
  @ApiProperty({ nullable: true, type: Date, description: 'Time of the last AI call' }) lastUsed: Date | null;
}
