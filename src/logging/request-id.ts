import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

// Fastify's request id (its `genReqId`): a caller's X-Request-Id when it is sane, so one id
// follows a call across services, else a new UUID. middie hands it to the request logger as req.id.
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

// Middleware beside the request logger, on the same routes: the responses it logs carry their id.
export function requestIdHeader(req: IncomingMessage & { id?: string }, res: ServerResponse, next: () => void): void {
  if (req.id) res.setHeader('X-Request-Id', req.id);
  next();
}
