import { Injectable } from '@nestjs/common';
import { registerDecorator, ValidationArguments, ValidationOptions, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { AppConfigService } from '../../config/app-config.service';

type NumericSetting = 'AI_MAX_MESSAGE_LENGTH' | 'OPENAI_MAX_TOKENS';

// Upper bounds that come from configuration (message length, maxTokens ceiling). class-validator
// resolves this constraint from the Nest container (see useContainer in app.setup.ts).
@ValidatorConstraint({ name: 'maxFromConfig' })
@Injectable()
export class MaxFromConfigConstraint implements ValidatorConstraintInterface {
  constructor(private readonly config: AppConfigService) {}

  validate(value: unknown, args: ValidationArguments): boolean {
    const [setting, measure] = args.constraints as [NumericSetting, 'length' | 'value'];
    const limit = this.config.get(setting);
    if (measure === 'length') return typeof value === 'string' && value.length <= limit;
    return typeof value === 'number' && value <= limit;
  }

  defaultMessage(args: ValidationArguments): string {
    const [setting, measure] = args.constraints as [NumericSetting, 'length' | 'value'];
    const limit = this.config.get(setting);
    return measure === 'length' ? `${args.property} must be shorter than or equal to ${limit} characters` : `${args.property} must not be greater than ${limit}`;
  }
}

export function MaxLengthFromConfig(setting: NumericSetting, options?: ValidationOptions) {
  return register(setting, 'length', options);
}

export function MaxFromConfig(setting: NumericSetting, options?: ValidationOptions) {
  return register(setting, 'value', options);
}

function register(setting: NumericSetting, measure: 'length' | 'value', options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({ target: target.constructor, propertyName, options, constraints: [setting, measure], validator: MaxFromConfigConstraint });
}
