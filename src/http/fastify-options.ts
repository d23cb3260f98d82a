import type { FastifyServerOptions } from 'fastify';
import { requestIdOf } from '../logging/request-id';

// Fastify's settings, chosen so that clients see what they saw when this service ran on Express.
export const FASTIFY_OPTIONS: FastifyServerOptions = {
  genReqId: requestIdOf,
  // req.ip (per-IP rate limits, logs) from X-Forwarded-For only when a private or local proxy sent it.
  trustProxy: 'loopback, linklocal, uniquelocal',
  routerOptions: {
    // `/api/v1/health/` and `/API/V1/HEALTH` reach /api/v1/health, as on Express.
    ignoreTrailingSlash: true,
    caseSensitive: false,
    // find-my-way answers 414 to a path parameter over 100 characters; a long one is refused by
    // the route's own validation (400) instead. Node's 16 kB header limit still bounds the URL.
    maxParamLength: 16 * 1024,
  },
  // Node's own defaults, which Fastify changes: idle keep-alive sockets close after 5 s
  // (`Keep-Alive: timeout=5`), a request must arrive within 5 minutes.
  keepAliveTimeout: 5_000,
  requestTimeout: 300_000,
  // During shutdown, requests on open keep-alive connections get this service's own 503
  // (refuse-when-closing.hook.ts), not Fastify's.
  return503OnClosing: false,
};
