import { ArgumentMetadata, BadRequestException, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';
import { findUnsafeJson } from './json-safety';

export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  // Values arrive as JSON types; no silent "123" → 123 coercion on bodies.
  transformOptions: { enableImplicitConversion: false },
  validationError: { target: false, value: false },
};

// Nest's ValidationPipe, after a check that the DTO layer can safely walk the input (json-safety.ts).
// Inputs it does not validate (socket payloads typed `unknown`, custom decorators) pass untouched.
class SafeValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const problem = this.toValidate(metadata) ? findUnsafeJson(value) : undefined;
    if (problem) throw new BadRequestException([problem]);
    return super.transform(value, metadata);
  }
}

export const createValidationPipe = () => new SafeValidationPipe(VALIDATION_OPTIONS);
