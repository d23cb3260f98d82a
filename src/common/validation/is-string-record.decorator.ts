import { ValidateBy, ValidationOptions } from 'class-validator';

// Every value of the object is a string (template variables).
export function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string'),
        defaultMessage: (args) => `${args?.property} must be an object of strings`,
      },
    },
    options,
  );
}
