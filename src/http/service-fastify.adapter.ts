import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import finalhandler from 'finalhandler';

type PathTest = (path: string) => boolean;

// Nest's Fastify adapter, with the answers this service gave on Express where Fastify's differ:
// - an unknown path outside the API (its global prefix and the routes excluded from it) gets the
//   plain HTML "Cannot GET /path" page (finalhandler's, as Express sent it); an unknown API path
//   gets Nest's JSON 404, as before;
// - a path with a percent escape that does not decode gets, inside the API, the 400 Express's
//   router answered ("Failed to decode param '%'") in the API's error shape instead of Fastify's
//   FST_ERR_BAD_URL body, and the 404 page outside it.
export class ServiceFastifyAdapter extends FastifyAdapter {
  private readonly api: { isApiPath: PathTest };

  constructor(options: FastifyServerOptions & { skipMiddie?: boolean }) {
    // Known once Nest registers the not-found handler (app.init); no request is served before.
    const api = { isApiPath: (() => true) as PathTest };
    super({
      ...options,
      frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => answerFrameworkError(error, request, reply, api.isApiPath),
    });
    this.api = api;
  }

  override setNotFoundHandler(handler: (request: FastifyRequest, reply: FastifyReply) => unknown, prefix?: string, excludedRoutes?: Array<{ path: string }>) {
    this.api.isApiPath = apiPathTest(prefix, excludedRoutes);
    return super.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
      this.api.isApiPath(pathOf(request)) ? handler(request, reply) : sendNotFoundPage(request, reply),
    );
  }
}

const pathOf = (request: FastifyRequest) => request.url.split('?', 1)[0];

// Express mounted the API's not-found handler under the prefix (any case) and on the exact
// excluded paths; everything else fell through to its final handler.
function apiPathTest(prefix = '', excludedRoutes: Array<{ path: string }> = []): PathTest {
  const base = `/${prefix}`.replace(/\/+$/, '').toLowerCase();
  const excluded = new Set(excludedRoutes.map((route) => `/${route.path.replace(/^\/+/, '')}`.toLowerCase()));
  return (path) => {
    const lower = path.toLowerCase();
    return (base !== '' && (lower === base || lower.startsWith(`${base}/`))) || excluded.has(lower.replace(/(.)\/$/, '$1'));
  };
}

function sendNotFoundPage(request: FastifyRequest, reply: FastifyReply): void {
  // The headers set on the reply so far (CORS) go out on the Node response the page is written to.
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  reply.hijack();
  finalhandler(request.raw, reply.raw)(undefined);
}

function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply, isApiPath: PathTest): void {
  if (error.code !== 'FST_ERR_BAD_URL') {
    void reply.send(error);
    return;
  }
  const path = pathOf(request);
  const segment = path.split('/').find((part) => !decodes(part));
  if (segment === undefined || !isApiPath(path)) return sendNotFoundPage(request, reply);
  void reply.code(400).send({ statusCode: 400, message: `Failed to decode param '${segment}'`, error: 'Bad Request' });
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
