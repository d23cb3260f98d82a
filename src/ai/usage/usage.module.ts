import { Module } from '@nestjs/common';
import { BudgetModule } from '../../budget/budget.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { UsageService } from './usage.service';

@Module({
  imports: [BudgetModule, ConversationsModule],
  providers: [UsageService],
  exports: [UsageService],
})
export class UsageModule {}
