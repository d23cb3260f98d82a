import { Module } from '@nestjs/common';
import { MaxFromConfigConstraint } from './config-limit.constraint';

// The validators that need Nest's container (configured limits); app.setup.ts hands it to class-validator.
@Module({ providers: [MaxFromConfigConstraint], exports: [MaxFromConfigConstraint] })
export class ValidationModule {}
