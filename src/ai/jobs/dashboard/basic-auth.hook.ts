import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { areValidCredentials, BasicCredentials, parseBasicAuth } from './basic-auth';

// An onRequest hook in front of the dashboard and everything under its path (the board is a
// Fastify plugin, not a Nest route, so the JWT guard never sees it). A browser shows its login
// prompt on the 401 with the challenge header.
export function basicAuthHook(expected: BasicCredentials, realm: string, route: string) {
  const path = `/${route}`;
  const isUnder = (target: string) => target === path || target.startsWith(`${path}/`);
  // The routed template is what decides (the router decodes and folds case before it matches);
  // the raw path covers requests routed nowhere, which also get the 401 rather than a 404.
  const isProtected = (request: FastifyRequest) => isUnder(request.routeOptions.url ?? '') || isUnder(request.url.split('?', 1)[0].toLowerCase());
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!isProtected(request) || areValidCredentials(parseBasicAuth(request.headers.authorization), expected)) return done();
    void reply.header('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`).code(401).send({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
  };
}
