import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { MetricsService } from './metrics.service';

// An onResponse hook: times every HTTP request, including those refused by guards, answered by
// another hook or routed nowhere (Fastify runs it once the response has finished, whoever wrote
// it). The route label is the matched template (`/api/v1/ai/conversations/:id`), never the raw
// URL; 404s and CORS preflights (answered through @fastify/cors's catch-all OPTIONS route `*`)
// count as `unmatched`.
export function httpMetricsHook(metrics: MetricsService) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const template = request.is404 ? undefined : request.routeOptions.url;
    const route = template && template !== '*' ? template : 'unmatched';
    metrics.observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  };
}
