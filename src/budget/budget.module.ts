import { Module } from '@nestjs/common';
import { PrismaModule } from '../prisma/prisma.module';
import { BudgetRepository } from './budget.repository';
import { BudgetService } from './budget.service';
import { UsageAnalyticsRepository } from './usage-analytics.repository';
import { UsageAnalyticsService } from './usage-analytics.service';

// Owns the budget columns of a user (usage, limit, holds), the usage ledger and its daily rollup:
// every reserve, settle and release goes through BudgetService; reads by day through UsageAnalyticsService.
@Module({
  imports: [PrismaModule],
  providers: [BudgetService, BudgetRepository, UsageAnalyticsService, UsageAnalyticsRepository],
  exports: [BudgetService, UsageAnalyticsService],
})
export class BudgetModule {}
