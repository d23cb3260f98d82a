import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service';

// Times every HTTP request, including those refused by guards or routed nowhere. The route label
// is the matched template (`/api/v1/ai/conversations/:id`), never the raw URL.
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const startedAt = process.hrtime.bigint();
    res.once('finish', () => {
      const path = (req.route as { path?: string } | undefined)?.path;
      const route = path ? `${req.baseUrl}${path}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.observeHttpRequest(req.method, route, res.statusCode, seconds);
    });
    next();
  };
}
