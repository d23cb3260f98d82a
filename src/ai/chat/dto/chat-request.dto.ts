import { ApiExtraModels, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches, MinLength, ValidateBy, ValidateIf } from 'class-validator';
import { MaxLengthFromConfig } from '../../../common/validation/config-limit.constraint';
import { ExactlyOneOf } from '../../../common/validation/exactly-one-of.decorator';
import { IsStringRecord } from '../../../common/validation/is-string-record.decorator';
import { CompletionOptionsDto } from './completion-options.dto';
import { IsKnowledge, KnowledgeOptionsDto } from './knowledge-options.dto';

// The user's message, written out (`message`) or rendered from one of their prompt templates
// (`promptId` with its `variables`): exactly one of the two.
@ApiExtraModels(KnowledgeOptionsDto)
export class ChatRequestDto extends CompletionOptionsDto {
  @ApiPropertyOptional({ example: 'Explain NestJS to me', description: '1..AI_MAX_MESSAGE_LENGTH characters; required unless promptId is given' })
  @ExactlyOneOf('promptId')
  @ValidateIf((dto: ChatRequestDto) => dto.message !== undefined || dto.promptId === undefined)
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'message must not be blank' })
  @MaxLengthFromConfig('AI_MAX_MESSAGE_LENGTH')
  message?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Chat from this prompt template (in place of message); its rendered text is the message' })
  @IsOptional()
  @IsUUID()
  promptId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { language: 'French' },
    description: "The template's {{variables}}: every one of them, and nothing else",
  })
  @IsOptional()
  @IsStringRecord()
  @ValidateBy({
    name: 'onlyWithPromptId',
    validator: { validate: (_, args) => (args?.object as ChatRequestDto).promptId !== undefined, defaultMessage: () => 'variables are only accepted with promptId' },
  })
  variables?: Record<string, string>;

  @ApiPropertyOptional({
    oneOf: [{ type: 'boolean' }, { $ref: getSchemaPath(KnowledgeOptionsDto) }],
    example: { topK: 5 },
    description: "Answer from the user's documents: the top chunks go to the model as numbered sources, and the answer carries `citations`",
  })
  @IsOptional()
  @IsKnowledge()
  knowledge?: boolean | KnowledgeOptionsDto;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'Continue this conversation; omit (or null) to start a new one' })
  @IsOptional()
  @IsUUID()
  conversationId?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      "Edit: the new message follows this message of the conversation (e.g. the parent of the question being edited), starting a branch; omit (or null) to follow the conversation's newest message. Requires conversationId",
  })
  @IsOptional()
  @IsUUID()
  @ValidateBy({
    name: 'onlyWithConversationId',
    validator: {
      validate: (value, args) => value === null || value === undefined || typeof (args?.object as ChatRequestDto).conversationId === 'string',
      defaultMessage: () => 'parentMessageId requires conversationId',
    },
  })
  parentMessageId?: string | null;
}
