import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../common/decorators/public.decorator';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'PostgreSQL and Redis reachability, and whether vector search is on' })
  @ApiResponse({ status: 200, description: '{ status: "ok", info: { database, redis, vector: { status, available } } }; vector search off never makes it 503' })
  @ApiResponse({ status: 503, description: 'A dependency is down' })
  check(): Promise<HealthCheckResult> {
    return this.health.check();
  }
}
