import { Injectable } from '@nestjs/common';
import { BudgetService } from '../../budget/budget.service';
import { UsageAnalyticsService } from '../../budget/usage-analytics.service';
import { ConversationService } from '../conversations/conversation.service';
import { DailyUsageResponseDto, UsageRangeQueryDto } from './dto/usage-daily.dto';
import { UsageResponseDto } from './dto/usage.dto';

@Injectable()
export class UsageService {
  constructor(
    private readonly budget: BudgetService,
    private readonly conversations: ConversationService,
    private readonly analytics: UsageAnalyticsService,
  ) {}

  // Lifetime tokens from the budget (deleting a conversation refunds nothing); the counts are of
  // what still exists.
  async getUsage(userId: string): Promise<UsageResponseDto> {
    const [usage, counts] = await Promise.all([this.budget.getUsage(userId), this.conversations.countsForUser(userId)]);
    return {
      totalTokens: usage.totalTokensUsed,
      totalCostUsd: usage.totalCostUsd,
      conversationsCount: counts.conversations,
      messagesCount: counts.messages,
      lastUsed: usage.lastAiCallAt,
      byModel: usage.byModel.map((row) => ({ ...row })),
    };
  }

  async getDailyUsage(userId: string, query: UsageRangeQueryDto): Promise<DailyUsageResponseDto> {
    const { from, to, days } = await this.analytics.dailyForUser(userId, query);
    return { from, to, days: days.map((row) => ({ ...row })) };
  }
}
