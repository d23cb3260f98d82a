import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuthUser } from '../auth/auth-user';

type LoggedRequest = FastifyRequest & { user?: AuthUser };

// One line per HTTP request once its response is sent, with its id, and the user once the JWT
// guard has run; every response names its id in X-Request-Id (a caller's own, when sane).
export function useRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const statusCode = reply.statusCode;
    const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level))
      logger[level]({ ...lineOf(request as LoggedRequest), res: { statusCode }, responseTime: Math.round(reply.elapsedTime) }, 'request completed');
    done();
  });
  // The client went away before the response: logged as such, with no status.
  fastify.addHook('onRequestAbort', (request, done) => {
    logger.warn({ ...lineOf(request as LoggedRequest), res: { statusCode: null } }, 'request aborted');
    done();
  });
}

function lineOf(request: LoggedRequest) {
  return { requestId: request.id, req: { id: request.id, method: request.method, url: request.url }, userId: request.user?.id };
}
