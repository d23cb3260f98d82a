import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { UsersModule } from '../users/users.module';
import { AccountAccessService } from './account-access.service';

@Module({
  imports: [UsersModule, RedisModule],
  providers: [AccountAccessService],
  exports: [AccountAccessService],
})
export class AccessModule {}
