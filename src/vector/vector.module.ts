import { Module } from '@nestjs/common';
import { PrismaModule } from '../prisma/prisma.module';
import { VectorSupport } from './vector-support.service';

// pgvector's presence in the database, for the knowledge feature and /health.
@Module({
  imports: [PrismaModule],
  providers: [VectorSupport],
  exports: [VectorSupport],
})
export class VectorModule {}
