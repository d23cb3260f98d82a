import { ApiProperty } from '@nestjs/swagger';
import { MODEL_CAPABILITIES, PROVIDER_KINDS, type ModelCapability, type ProviderKind } from '../model.types';

export class ModelPricingDto {
  @ApiProperty({ example: 2.5, description: 'USD per million input tokens' }) inputPerMTok: number;
  @ApiProperty({ example: 10, description: 'USD per million output tokens' }) outputPerMTok: number;
}

export class ModelResponseDto {
  @ApiProperty({ example: 'gpt-4o', description: 'What to send as `model`' }) id: string;
  @ApiProperty({ enum: PROVIDER_KINDS }) provider: ProviderKind;
  @ApiProperty({ nullable: true, type: Number, example: 128000, description: 'Tokens of prompt plus answer; null: unknown' }) contextWindow: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 16384, description: 'Largest answer in tokens; null: unknown' }) maxOutputTokens: number | null;
  @ApiProperty({ nullable: true, type: ModelPricingDto, description: 'null: no price' }) pricing: ModelPricingDto | null;
  @ApiProperty({ enum: MODEL_CAPABILITIES, isArray: true }) capabilities: ModelCapability[];
  @ApiProperty({ description: 'Used when a request names no model' }) default: boolean;
}
