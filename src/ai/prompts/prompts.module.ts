import { Module } from '@nestjs/common';
import { PrismaModule } from '../../prisma/prisma.module';
import { PromptsRepository } from './prompts.repository';
import { PromptsService } from './prompts.service';

@Module({
  imports: [PrismaModule],
  providers: [PromptsService, PromptsRepository],
  exports: [PromptsService],
})
export class PromptsModule {}
