import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrismaModule } from '../prisma/prisma.module';
import { RedisModule } from '../redis/redis.module';
import { VectorModule } from '../vector/vector.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), PrismaModule, RedisModule, VectorModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
