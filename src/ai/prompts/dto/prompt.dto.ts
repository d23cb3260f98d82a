import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';
import { PageQueryDto } from '../../../common/dto/page-query.dto';
import { PageMetaDto } from '../../conversations/dto/conversation.dto';

export class CreatePromptDto {
  @ApiProperty({ example: 'Translator', minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(100)
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'Translates a text into a language', maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string | null;

  @ApiProperty({
    example: 'Translate {{text}} into {{language}}.',
    description: '1..AI_MAX_MESSAGE_LENGTH characters; `{{name}}` marks a variable',
  })
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'template must not be blank' })
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  template: string;
}

// Every field optional, but a given name or template may not be null (only description clears).
export class UpdatePromptDto extends PartialType(CreatePromptDto, { skipNullProperties: false }) {}

// Part 1 paging: the same page and limit as the conversation list.
export class ListPromptsQueryDto extends PageQueryDto {}

export class PromptResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Translator' }) name: string;
  @ApiProperty({ nullable: true, type: String, example: 'Translates a text into a language' }) description: string | null;
  @ApiProperty({ example: 'Translate {{text}} into {{language}}.' }) template: string;
  @ApiProperty({ type: [String], example: ['text', 'language'], description: 'The placeholders, in order of first appearance' }) variables: string[];
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class PromptPageResponseDto {
  @ApiProperty({ type: [PromptResponseDto] }) data: PromptResponseDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
