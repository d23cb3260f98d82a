import { ApiProperty } from '@nestjs/swagger';

export class ModelUsageDto {
  @ApiProperty({ example: 'gpt-4o' }) model: string;
  @ApiProperty({ example: 42, description: 'Calls that counted (answers, stopped ones included, and embeddings)' }) requests: number;
  @ApiProperty({ example: 9100 }) promptTokens: number;
  @ApiProperty({ example: 3400 }) completionTokens: number;
  @ApiProperty({ example: 12500 }) totalTokens: number;
  @ApiProperty({ nullable: true, type: Number, example: 0.0568, description: 'USD; null: the model has no price' }) costUsd: number | null;
}

export class UsageResponseDto {
  @ApiProperty({ example: 12500, description: 'Lifetime tokens used (chat, streams, embeddings, jobs)' }) totalTokens: number;
  @ApiProperty({ example: 0.0568, description: 'Lifetime cost in USD at the models’ prices' }) totalCostUsd: number;
  @ApiProperty({ example: 15 }) conversationsCount: number;
  @ApiProperty({ example: 87 }) messagesCount: number;
  @ApiProperty({ nullable: true, type: Date, description: 'Time of the last AI call' }) lastUsed: Date | null;
  @ApiProperty({ type: [ModelUsageDto], description: 'Lifetime usage by model, by model id' }) byModel: ModelUsageDto[];
}
