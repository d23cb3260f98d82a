import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

// An optional model id as clients send it (`gpt-4o`, `llama3.2:3b`, `org/model@rev`): what reaches
// the upstream's URL or body is never free text.
export const IsOptionalModelName = () => applyDecorators(IsOptional(), IsString(), MaxLength(100), Matches(/^[\w.:/@+-]+$/, { message: 'model must be a model name' }));
