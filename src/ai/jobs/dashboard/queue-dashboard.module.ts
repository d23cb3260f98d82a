import { BullAdapter } from '@bull-board/api/bullAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AI_JOBS_QUEUE } from '../ai-jobs.constants';
import { AppConfigService } from '../../../config/app-config.service';
import { basicAuthHook } from './basic-auth.hook';
import { QUEUE_DASHBOARD_ROUTE } from './queue-dashboard.constants';

// Bull Board for the ops team at /admin/queues, behind HTTP Basic auth. AppModule imports this
// only when BULL_BOARD_USER/BULL_BOARD_PASSWORD are set (the schema requires both or neither),
// so without them the path does not exist.
@Module({
  imports: [
    BullBoardModule.forRoot({ route: `/${QUEUE_DASHBOARD_ROUTE}`, adapter: FastifyAdapter, boardOptions: { uiConfig: { boardTitle: 'AI service queues' } } }),
    BullBoardModule.forFeature({ name: AI_JOBS_QUEUE, adapter: BullAdapter }),
  ],
})
export class QueueDashboardModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfigService,
  ) {}

  // The auth is a hook of the root instance rather than the `middleware` option: on Fastify,
  // BullBoardModule applies that one to the exact path only, not to the board's API and files.
  onModuleInit(): void {
    const credentials = { user: this.config.get('BULL_BOARD_USER') ?? '', password: this.config.get('BULL_BOARD_PASSWORD') ?? '' };
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', basicAuthHook(credentials, 'Queues', QUEUE_DASHBOARD_ROUTE));
  }
}
