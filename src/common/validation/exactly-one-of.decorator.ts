import { ValidateBy, ValidationOptions } from 'class-validator';

// Exactly one of this property and `other` is present (not undefined), e.g. a chat's `message` or
// its `promptId`. Runs whether or not the property itself is set.
export function ExactlyOneOf(other: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'exactlyOneOf',
      validator: {
        validate: (value: unknown, args) => (value !== undefined) !== ((args?.object as Record<string, unknown>)[other] !== undefined),
        defaultMessage: (args) => `exactly one of ${args?.property} and ${other} must be given`,
      },
    },
    options,
  );
}
