import { ValidationPipe, ValidationPipeOptions } from '@nestjs/common';

export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  // Values arrive as JSON types; no silent "123" → 123 coercion on bodies.
  transformOptions: { enableImplicitConversion: false },
  validationError: { target: false, value: false },
};

export const createValidationPipe = () => new ValidationPipe(VALIDATION_OPTIONS);
