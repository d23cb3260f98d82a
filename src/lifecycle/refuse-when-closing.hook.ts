import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ShutdownState } from './shutdown-state.service';

// Stop taking HTTP work once shutdown began; the load balancer retries elsewhere. An onRequest
// hook, so it answers before any other work is done for the request.
export function refuseWhenClosing(state: ShutdownState) {
  return (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!state.isShuttingDown) return done();
    void reply.header('Connection', 'close').code(503).send({ statusCode: 503, message: 'Server is shutting down', error: 'Service Unavailable' });
  };
}
