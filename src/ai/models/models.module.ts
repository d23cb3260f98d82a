import { Module } from '@nestjs/common';
import { ModelRegistry } from './model-registry.service';

@Module({ providers: [ModelRegistry], exports: [ModelRegistry] })
export class ModelsModule {}
