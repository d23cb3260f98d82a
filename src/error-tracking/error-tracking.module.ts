import { Module } from '@nestjs/common';
import { ErrorReporter } from './error-reporter.service';

@Module({ providers: [ErrorReporter], exports: [ErrorReporter] })
export class ErrorTrackingModule {}
