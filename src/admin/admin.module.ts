import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AiStreamModule } from '../ai/stream/ai-stream.module';
import { AuthModule } from '../auth/auth.module';
import { BudgetModule } from '../budget/budget.module';
import { PrismaModule } from '../prisma/prisma.module';
import { RealtimeModule } from '../realtime/realtime.module';
import { UsersModule } from '../users/users.module';
import { AdminAuditRepository } from './admin-audit.repository';
import { AdminUsersService } from './admin-users.service';
import { AdminController } from './admin.controller';
import { AdminGuard } from './admin.guard';

// /api/v1/admin: accounts, usage over every user, and the audit log of admin changes.
@Module({
  imports: [UsersModule, AccessModule, BudgetModule, RealtimeModule, PrismaModule, AiStreamModule, AuthModule],
  controllers: [AdminController],
  providers: [AdminUsersService, AdminAuditRepository, AdminGuard],
})
export class AdminModule {}
