import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { AppError } from '../errors/app-error';
import { findUnsafeJson } from './json-safety';
import { VALIDATION_OPTIONS } from './validation-pipe';

// Validates a socket payload or job data with the same DTO classes and rules as REST.
export async function validateDto<T extends object>(cls: ClassConstructor<T>, input: unknown): Promise<T> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppError('VALIDATION_FAILED', 'payload must be an object');
  }
  const problem = findUnsafeJson(input);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  const instance = plainToInstance(cls, input);
  const errors = await validate(instance, {
    whitelist: VALIDATION_OPTIONS.whitelist,
    forbidNonWhitelisted: VALIDATION_OPTIONS.forbidNonWhitelisted,
    forbidUnknownValues: true,
  });
  if (errors.length) throw new AppError('VALIDATION_FAILED', flattenMessages(errors).join('; '));
  return instance;
}

function flattenMessages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...flattenMessages(e.children ?? [])]);
}
