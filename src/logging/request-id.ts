import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

// Fastify's request id (its `genReqId`): a caller's X-Request-Id when it is sane, so one id
// follows a call across services, else a new UUID. request-log.ts echoes it and logs it.
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
