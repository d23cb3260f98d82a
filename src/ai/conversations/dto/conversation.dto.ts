import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';
import { PageQueryDto } from '../../../common/dto/page-query.dto';

export class CreateConversationDto {
  @ApiPropertyOptional({ example: 'My AI Chat', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  title?: string;

  @ApiPropertyOptional({
    example: 'You are a patient tutor. Answer in French.',
    description: "Sent first in every upstream request of this conversation, in place of the service's system prompt; 1..AI_MAX_MESSAGE_LENGTH characters",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'systemPrompt must not be blank' })
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  systemPrompt?: string;
}

// Only the fields present change; null clears one (a conversation without a system prompt of its own
// gets the service's).
export class UpdateConversationDto {
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Renamed chat', maxLength: 200 })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsString()
  @MaxLength(200)
  title?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'Answer in one sentence.', description: '1..AI_MAX_MESSAGE_LENGTH characters, or null' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'systemPrompt must not be blank' })
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  systemPrompt?: string | null;

  @ApiPropertyOptional({ example: true, description: 'Pinned conversations lead the list' })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean()
  pinned?: boolean;

  @ApiPropertyOptional({ example: false, description: 'Archived conversations leave the list (GET /conversations?archived=true lists them)' })
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean()
  archived?: boolean;
}

// A query string's `true` / `false` as a boolean; anything else stays as it is and fails @IsBoolean.
const queryBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class ListConversationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'true: the archived conversations instead of the others' })
  @IsOptional()
  @Transform(queryBoolean)
  @IsBoolean()
  archived: boolean = false;

  @ApiPropertyOptional({
    example: 'postgres index',
    maxLength: 200,
    description: 'Full-text search over titles and message contents (web search syntax: "a phrase", or, -word); best match first',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/\S/, { message: 'q must not be blank' })
  q?: string;
}

export class ConversationBranchQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "Show the branch that ends at this message; default: the conversation's newest message" })
  @IsOptional()
  @IsUUID()
  leafId?: string;
}

export const EXPORT_FORMATS = ['json', 'md'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportConversationQueryDto extends ConversationBranchQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'json', description: 'json: the GET /conversations/:id body; md: Markdown' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'json';
}

export class ConversationResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String, example: 'Chat about NestJS' }) title: string | null;
  @ApiProperty({ nullable: true, type: String, example: null, description: "Its own system prompt; null: the service's" }) systemPrompt: string | null;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ example: 5, description: 'Every message of its tree, all branches' }) messageCount: number;
  @ApiProperty({ example: 1024, description: 'Sum of the tokens of its messages, all branches' }) totalTokens: number;
  @ApiProperty({ example: 0.0153, description: 'Sum of the cost of its messages in USD' }) totalCostUsd: number;
  @ApiProperty({ example: false }) pinned: boolean;
  @ApiProperty({ example: false }) archived: boolean;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

// A numbered source of a retrieval-augmented answer.
export class CitationDto {
  @ApiProperty({ example: 1, description: 'The [n] the answer cites it by' }) index: number;
  @ApiProperty({ format: 'uuid' }) documentId: string;
  @ApiProperty({ example: 'Handbook.pdf' }) documentTitle: string;
  @ApiProperty({ format: 'uuid' }) chunkId: string;
  @ApiProperty({ example: 0.82, description: 'Cosine similarity to the question' }) score: number;
}

export class MessageResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The message it follows; null for a first message' }) parentId: string | null;
  @ApiProperty({ type: [String], description: 'The messages that share its parent (the versions to flip between), itself included, oldest first' })
  siblingIds: string[];
  @ApiProperty({ enum: ['USER', 'ASSISTANT', 'SYSTEM'] }) role: 'USER' | 'ASSISTANT' | 'SYSTEM';
  @ApiProperty() content: string;
  @ApiProperty({ nullable: true, type: Number, example: 180, description: 'Answers: prompt tokens of the call' }) promptTokens: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 76, description: 'Answers: completion tokens of the call' }) completionTokens: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 256 }) tokens: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 0.00121, description: "Answers: USD at the model's prices; null: no price" }) costUsd: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'gpt-4' }) model: string | null;
  @ApiProperty({ enum: ['complete', 'stopped', 'failed'] }) status: 'complete' | 'stopped' | 'failed';
  @ApiProperty({ example: false, description: 'Flagged by content moderation (AI_MODERATION=flag, AI_MODERATION_OUTPUT)' }) flagged: boolean;
  @ApiProperty({ type: [String], example: [], description: 'The moderation categories it was flagged for' }) categories: string[];
  @ApiProperty({ type: [CitationDto], nullable: true, description: 'A retrieval-augmented answer: the sources it was given; null otherwise' })
  citations: CitationDto[] | null;
  @ApiProperty() createdAt: Date;
}

export class ConversationDetailResponseDto extends ConversationResponseDto {
  @ApiProperty({ type: [MessageResponseDto], description: 'The shown branch, first message first (the tree: every message, oldest first)' })
  messages: MessageResponseDto[];
}

export class PageMetaDto {
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() limit: number;
  @ApiProperty() totalPages: number;
}

export class ConversationPageResponseDto {
  @ApiProperty({ type: [ConversationResponseDto] }) data: ConversationResponseDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
