import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module } from '@nestjs/common';
import { AI_JOBS_QUEUE } from '../ai-jobs.constants';
import { AppConfigService } from '../../../config/app-config.service';
import { basicAuthMiddleware } from './basic-auth.middleware';
import { QUEUE_DASHBOARD_ROUTE } from './queue-dashboard.constants';

// Bull Board for the ops team at /admin/queues, behind HTTP Basic auth. AppModule imports this
// only when BULL_BOARD_USER/BULL_BOARD_PASSWORD are set (the schema requires both or neither),
// so without them the path does not exist.
@Module({
  imports: [
    BullBoardModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) => ({
        route: `/${QUEUE_DASHBOARD_ROUTE}`,
        adapter: ExpressAdapter,
        middleware: basicAuthMiddleware({ user: config.get('BULL_BOARD_USER') ?? '', password: config.get('BULL_BOARD_PASSWORD') ?? '' }, 'Queues'),
        boardOptions: { uiConfig: { boardTitle: 'AI service queues' } },
      }),
    }),
    BullBoardModule.forFeature({ name: AI_JOBS_QUEUE, adapter: BullAdapter }),
  ],
})
export class QueueDashboardModule {}
