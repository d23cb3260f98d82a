import { Module } from '@nestjs/common';
import { PrismaModule } from '../prisma/prisma.module';
import { BudgetRepository } from './budget.repository';
import { BudgetService } from './budget.service';

// Owns the budget columns of a user (usage, limit, holds): every reserve, settle and release goes
// through BudgetService.
@Module({
  imports: [PrismaModule],
  providers: [BudgetService, BudgetRepository],
  exports: [BudgetService],
})
export class BudgetModule {}
