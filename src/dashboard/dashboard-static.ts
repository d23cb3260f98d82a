import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_ROUTE = '/dashboard';

// Where `npm run build` writes the page (web/ built by Vite), from src/ and dist/ alike.
export const DASHBOARD_DIR = join(__dirname, '..', '..', 'web', 'dist');

// GET /dashboard: the usage dashboard, static files served by this process (no second server).
// Its script and styles are files of its own (under /dashboard/assets/), so helmet's default CSP
// ('self') lets it run. The page answers at /dashboard itself, not through a redirect to /dashboard/.
export function serveDashboard(app: NestFastifyApplication, dir = DASHBOARD_DIR): void {
  const fastify = app.getHttpAdapter().getInstance();
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    const notBuilt = (_request: FastifyRequest, reply: FastifyReply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `npm run build`.');
    fastify.all(DASHBOARD_ROUTE, notBuilt);
    fastify.all(`${DASHBOARD_ROUTE}/*`, notBuilt);
    return;
  }
  // A plugin of its own: @fastify/static's reply.sendFile stays out of the other contexts (the
  // Bull board registers the plugin for its own files too).
  void fastify.register(async (scope: FastifyInstance) => {
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: `${DASHBOARD_ROUTE}/`,
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      immutable: true,
      maxAge: '1y',
    });
    // As with Express's static middleware, a path that names no file (a directory, `..`) is a 404.
    scope.setErrorHandler((error: { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply) =>
      error.statusCode === 403 ? reply.callNotFound() : reply.send(error),
    );
    // Always the current build: the page names its hashed assets.
    const page = (_request: FastifyRequest, reply: FastifyReply) => reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
    scope.get(DASHBOARD_ROUTE, page);
    scope.get(`${DASHBOARD_ROUTE}/index.html`, page);
  });
}
